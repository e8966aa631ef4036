package main

import (
	"container/heap"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// value is a string ([]byte) or a list (*list).
type entry struct {
	str     []byte
	list    *list
	expires time.Time // zero: never
}

func (e *entry) expired(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

// list is a deque of values: a ring buffer that doubles when full.
type list struct {
	buf        [][]byte
	head, size int
}

func (l *list) len() int        { return l.size }
func (l *list) at(i int) []byte { return l.buf[(l.head+i)%len(l.buf)] }
func (l *list) grow() {
	if l.size < len(l.buf) {
		return
	}
	nb := make([][]byte, max(8, 2*len(l.buf)))
	for i := range l.size {
		nb[i] = l.at(i)
	}
	l.buf, l.head = nb, 0
}
func (l *list) pushFront(v []byte) {
	l.grow()
	l.head = (l.head - 1 + len(l.buf)) % len(l.buf)
	l.buf[l.head] = v
	l.size++
}
func (l *list) pushBack(v []byte) {
	l.grow()
	l.buf[(l.head+l.size)%len(l.buf)] = v
	l.size++
}
func (l *list) popFront() []byte {
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) % len(l.buf)
	l.size--
	return v
}
func (l *list) popBack() []byte {
	i := (l.head + l.size - 1) % len(l.buf)
	v := l.buf[i]
	l.buf[i] = nil
	l.size--
	return v
}

type deadline struct {
	at  time.Time
	key string
}

// deadlines is a min-heap of (time, key); stale pairs are skipped when due.
type deadlines []deadline

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlines) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlines) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlines) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type shard struct {
	mu        sync.Mutex
	entries   map[string]*entry
	deadlines deadlines
}

type db struct {
	seed   maphash.Seed
	shards []*shard
}

func newDB(n int) *db {
	d := &db{seed: maphash.MakeSeed()}
	for range max(n, 1) {
		d.shards = append(d.shards, &shard{entries: map[string]*entry{}})
	}
	return d
}

func (d *db) shardOf(key []byte) int  { return int(maphash.Bytes(d.seed, key) % uint64(len(d.shards))) }
func (d *db) shard(key []byte) *shard { return d.shards[d.shardOf(key)] }

// get returns the live entry (lazily removing an expired one); s.mu held.
func (s *shard) get(key []byte, now time.Time) *entry {
	e := s.entries[string(key)]
	if e != nil && e.expired(now) {
		delete(s.entries, string(key))
		return nil
	}
	return e
}

// set replaces key's entry; s.mu held.
func (s *shard) set(key []byte, e *entry) {
	if !e.expires.IsZero() {
		heap.Push(&s.deadlines, deadline{e.expires, string(key)})
	}
	s.entries[string(key)] = e
}

func (s *shard) setExpiry(key []byte, at time.Time, now time.Time) bool {
	e := s.get(key, now)
	if e == nil {
		return false
	}
	e.expires = at
	heap.Push(&s.deadlines, deadline{at, string(key)})
	return true
}

func (s *shard) remove(key []byte, now time.Time) bool {
	e, ok := s.entries[string(key)]
	delete(s.entries, string(key))
	return ok && !e.expired(now)
}

func (s *shard) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.deadlines) > 0 && !now.Before(s.deadlines[0].at) {
		d := heap.Pop(&s.deadlines).(deadline)
		if e := s.entries[d.key]; e != nil && e.expires.Equal(d.at) {
			delete(s.entries, d.key)
		}
	}
	if len(s.deadlines) > 2*len(s.entries)+64 {
		s.deadlines = s.deadlines[:0]
		for k, e := range s.entries {
			if !e.expires.IsZero() {
				s.deadlines = append(s.deadlines, deadline{e.expires, k})
			}
		}
		heap.Init(&s.deadlines)
	}
}

func (d *db) sweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, s := range d.shards {
				s.sweep(now)
			}
		}
	}
}

func (d *db) len() int {
	n := 0
	for _, s := range d.shards {
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

func (d *db) clear() {
	for _, s := range d.shards {
		s.mu.Lock()
		s.entries = map[string]*entry{}
		s.deadlines = nil
		s.mu.Unlock()
	}
}
