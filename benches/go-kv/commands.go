package main

import (
	"bufio"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	wrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	notInteger  = "ERR value is not an integer or out of range"
	syntaxError = "ERR syntax error"
)

// arity as Redis counts it: n exactly, or -n for at least n.
var arity = map[string]int{
	"PING": -1, "ECHO": 2, "GET": 2, "SET": -3, "DEL": -2, "EXISTS": -2,
	"INCR": 2, "DECR": 2, "INCRBY": 3, "DECRBY": 3, "MGET": -2, "MSET": -3,
	"EXPIRE": 3, "PEXPIRE": 3, "TTL": 2, "PTTL": 2, "LPUSH": -3, "RPUSH": -3,
	"LPOP": -2, "RPOP": -2, "LRANGE": 4, "PUBLISH": 3, "CONFIG": -2,
	"DBSIZE": 1, "FLUSHALL": -1, "FLUSHDB": -1, "INFO": -1, "COMMAND": -1,
}

func execute(s *server, name string, args [][]byte, w *bufio.Writer) {
	a, ok := arity[name]
	if !ok {
		msg := fmt.Sprintf("ERR unknown command '%s', with args beginning with: ", args[0])
		for _, x := range args[1:] {
			msg += fmt.Sprintf("'%s' ", x)
		}
		writeError(w, msg)
		return
	}
	if (a > 0 && len(args) != a) || len(args) < -a {
		writeError(w, fmt.Sprintf("ERR wrong number of arguments for '%s' command", lower(args[0])))
		return
	}
	d := s.db
	switch name {
	case "PING":
		switch len(args) {
		case 1:
			w.WriteString("+PONG\r\n")
		case 2:
			writeBulk(w, args[1])
		default:
			writeError(w, "ERR wrong number of arguments for 'ping' command")
		}
	case "ECHO":
		writeBulk(w, args[1])
	case "GET":
		sh := d.shard(args[1])
		sh.mu.Lock()
		e := sh.get(args[1], time.Now())
		switch {
		case e == nil:
			writeNil(w)
		case e.list != nil:
			writeError(w, wrongType)
		default:
			writeBulk(w, e.str)
		}
		sh.mu.Unlock()
	case "SET":
		set(d, args, w)
	case "DEL", "EXISTS":
		now, n := time.Now(), 0
		for _, k := range args[1:] {
			sh := d.shard(k)
			sh.mu.Lock()
			if name == "DEL" && sh.remove(k, now) || name == "EXISTS" && sh.get(k, now) != nil {
				n++
			}
			sh.mu.Unlock()
		}
		writeInt(w, int64(n))
	case "INCR":
		incrBy(d, args[1], 1, w)
	case "DECR":
		incrBy(d, args[1], -1, w)
	case "INCRBY", "DECRBY":
		n, err := parseInt(args[2])
		if err != nil {
			writeError(w, notInteger)
			return
		}
		if name == "DECRBY" {
			if n == math.MinInt64 {
				writeError(w, "ERR decrement would overflow")
				return
			}
			n = -n
		}
		incrBy(d, args[1], n, w)
	case "MGET":
		now := time.Now()
		writeArrayLen(w, len(args)-1)
		for _, k := range args[1:] {
			sh := d.shard(k)
			sh.mu.Lock()
			if e := sh.get(k, now); e != nil && e.list == nil {
				writeBulk(w, e.str)
			} else {
				writeNil(w)
			}
			sh.mu.Unlock()
		}
	case "MSET":
		mset(d, args, w)
	case "EXPIRE", "PEXPIRE":
		n, err := parseInt(args[2])
		if err != nil {
			writeError(w, notInteger)
			return
		}
		unit := time.Second
		if name == "PEXPIRE" {
			unit = time.Millisecond
		}
		now := time.Now()
		sh := d.shard(args[1])
		sh.mu.Lock()
		var done bool
		if n <= 0 {
			done = sh.remove(args[1], now)
		} else {
			done = sh.setExpiry(args[1], now.Add(time.Duration(n)*unit), now)
		}
		sh.mu.Unlock()
		writeInt(w, b2i(done))
	case "TTL", "PTTL":
		unit := int64(1000)
		if name == "PTTL" {
			unit = 1
		}
		now := time.Now()
		sh := d.shard(args[1])
		sh.mu.Lock()
		e := sh.get(args[1], now)
		var n int64
		switch {
		case e == nil:
			n = -2
		case e.expires.IsZero():
			n = -1
		default:
			n = (e.expires.Sub(now).Milliseconds() + unit/2) / unit
		}
		sh.mu.Unlock()
		writeInt(w, n)
	case "LPUSH", "RPUSH":
		push(d, args, name == "LPUSH", w)
	case "LPOP", "RPOP":
		pop(d, args, name == "LPOP", w)
	case "LRANGE":
		lrange(d, args, w)
	case "PUBLISH":
		writeInt(w, int64(s.broker.publish(args[1], args[2])))
	case "CONFIG":
		if upper(args[1]) != "GET" || len(args) < 3 {
			writeError(w, "ERR CONFIG supports only GET <parameter>...")
			return
		}
		var found []string
		for _, kv := range [][2]string{{"save", ""}, {"appendonly", "no"}} {
			if slices.ContainsFunc(args[2:], func(a []byte) bool { return strings.EqualFold(string(a), kv[0]) }) {
				found = append(found, kv[0], kv[1])
			}
		}
		writeArrayLen(w, len(found))
		for _, f := range found {
			writeBulk(w, []byte(f))
		}
	case "DBSIZE":
		writeInt(w, int64(d.len()))
	case "FLUSHALL", "FLUSHDB":
		d.clear()
		writeOK(w)
	case "INFO":
		writeBulk(w, []byte(fmt.Sprintf("# Server\r\ngo_kv:1\r\n\r\n# Clients\r\nconnected_clients:%d\r\n\r\n# Go\r\ngoroutines:%d\r\ngomaxprocs:%d\r\n\r\n# Keyspace\r\ndb0:keys=%d\r\n",
			len(s.clients), runtime.NumGoroutine(), runtime.GOMAXPROCS(0), d.len())))
	case "COMMAND":
		writeArrayLen(w, 0)
	}
}

func set(d *db, args [][]byte, w *bufio.Writer) {
	now := time.Now()
	var nx, xx, keepTTL bool
	var expires time.Time
	for i := 3; i < len(args); i++ {
		opt := upper(args[i])
		switch {
		case opt == "NX" && !xx:
			nx = true
		case opt == "XX" && !nx:
			xx = true
		case opt == "KEEPTTL" && expires.IsZero():
			keepTTL = true
		case (opt == "EX" || opt == "PX") && !keepTTL && expires.IsZero() && i+1 < len(args):
			n, err := parseInt(args[i+1])
			if err != nil {
				writeError(w, notInteger)
				return
			}
			if n <= 0 {
				writeError(w, "ERR invalid expire time in 'set' command")
				return
			}
			unit := time.Second
			if opt == "PX" {
				unit = time.Millisecond
			}
			expires = now.Add(time.Duration(n) * unit)
			i++
		default:
			writeError(w, syntaxError)
			return
		}
	}
	sh := d.shard(args[1])
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.get(args[1], now)
	if nx && old != nil || xx && old == nil {
		writeNil(w)
		return
	}
	if keepTTL && old != nil {
		expires = old.expires
	}
	sh.set(args[1], &entry{str: args[2], expires: expires})
	writeOK(w)
}

func incrBy(d *db, key []byte, by int64, w *bufio.Writer) {
	now := time.Now()
	sh := d.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(key, now)
	if e == nil {
		sh.set(key, &entry{str: strconv.AppendInt(nil, by, 10)})
		writeInt(w, by)
		return
	}
	if e.list != nil {
		writeError(w, wrongType)
		return
	}
	old, err := parseInt(e.str)
	if err != nil {
		writeError(w, notInteger)
		return
	}
	if (by > 0 && old > math.MaxInt64-by) || (by < 0 && old < math.MinInt64-by) {
		writeError(w, "ERR increment or decrement would overflow")
		return
	}
	e.str = strconv.AppendInt(e.str[:0], old+by, 10)
	writeInt(w, old+by)
}

// mset locks the pairs' shards together, in index order.
func mset(d *db, args [][]byte, w *bufio.Writer) {
	if len(args)%2 == 0 {
		writeError(w, "ERR wrong number of arguments for 'mset' command")
		return
	}
	var idx []int
	for i := 1; i < len(args); i += 2 {
		idx = append(idx, d.shardOf(args[i]))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		d.shards[i].mu.Lock()
	}
	for i := 1; i < len(args); i += 2 {
		d.shard(args[i]).set(args[i], &entry{str: args[i+1]})
	}
	for _, i := range idx {
		d.shards[i].mu.Unlock()
	}
	writeOK(w)
}

func push(d *db, args [][]byte, front bool, w *bufio.Writer) {
	now := time.Now()
	sh := d.shard(args[1])
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(args[1], now)
	if e == nil {
		e = &entry{list: &list{}}
		sh.set(args[1], e)
	}
	if e.list == nil {
		writeError(w, wrongType)
		return
	}
	for _, v := range args[2:] {
		if front {
			e.list.pushFront(v)
		} else {
			e.list.pushBack(v)
		}
	}
	writeInt(w, int64(e.list.len()))
}

func pop(d *db, args [][]byte, front bool, w *bufio.Writer) {
	count := -1
	if len(args) == 3 {
		n, err := parseInt(args[2])
		if err != nil || n < 0 {
			writeError(w, "ERR value is out of range, must be positive")
			return
		}
		count = int(n)
	} else if len(args) > 3 {
		writeError(w, syntaxError)
		return
	}
	now := time.Now()
	sh := d.shard(args[1])
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(args[1], now)
	if e == nil {
		writeNil(w)
		return
	}
	if e.list == nil {
		writeError(w, wrongType)
		return
	}
	l := e.list
	take := l.popBack
	if front {
		take = l.popFront
	}
	if count < 0 {
		writeBulk(w, take())
	} else {
		n := min(count, l.len())
		writeArrayLen(w, n)
		for range n {
			writeBulk(w, take())
		}
	}
	if l.len() == 0 {
		delete(sh.entries, string(args[1]))
	}
}

func lrange(d *db, args [][]byte, w *bufio.Writer) {
	start, err1 := parseInt(args[2])
	stop, err2 := parseInt(args[3])
	if err1 != nil || err2 != nil {
		writeError(w, notInteger)
		return
	}
	sh := d.shard(args[1])
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.get(args[1], time.Now())
	if e == nil {
		writeArrayLen(w, 0)
		return
	}
	if e.list == nil {
		writeError(w, wrongType)
		return
	}
	n := int64(e.list.len())
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start, stop = max(start, 0), min(stop, n-1)
	if start > stop {
		writeArrayLen(w, 0)
		return
	}
	writeArrayLen(w, int(stop-start+1))
	for i := start; i <= stop; i++ {
		writeBulk(w, e.list.at(int(i)))
	}
}

func parseInt(b []byte) (int64, error) {
	if len(b) > 0 && b[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
