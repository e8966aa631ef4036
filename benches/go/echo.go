package main

import (
	"bytes"
	"io"
	"net"
	"slices"
	"sync"
	"time"
)

// echoConns is how many loopback connections the echo workload keeps busy.
const echoConns = 1000

// echo: an echo server (one goroutine per connection) and a load client of
// echoConns connections in the same process, each making N/echoConns
// round trips of a 64-byte message. ns_per_op is per round trip; each round
// trip is also timed, for the median and 99th percentile.
func echoBench(n int) result {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{detail: err.Error()}
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 16*1024)
				for {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:k]); err != nil {
						return
					}
				}
			}()
		}
	}()
	per := n / echoConns
	conns := make([]net.Conn, echoConns)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", ln.Addr().String()); err != nil {
			return result{detail: err.Error()}
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	var rtts []time.Duration
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			defer c.Close()
			msg := bytes.Repeat([]byte{'x'}, 64)
			back := make([]byte, 64)
			mine := make([]time.Duration, 0, per)
			for i := 0; i < per; i++ {
				sent := time.Now()
				_, err := c.Write(msg)
				if err == nil {
					_, err = io.ReadFull(c, back)
				}
				if err != nil || !bytes.Equal(back, msg) {
					mu.Lock()
					bad++
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(sent))
			}
			mu.Lock()
			rtts = append(rtts, mine...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{elapsed: elapsed, ops: float64(per * echoConns), ok: bad == 0,
		detail: sprintf("%d connections saw a wrong echo", bad)}
	if r.ok {
		slices.Sort(rtts)
		r.rttP50, r.rttP99, r.hasRTT = percentile(rtts, 50), percentile(rtts, 99), true
	}
	return r
}

// percentile is the pth percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := max((len(sorted)*p+99)/100, 1)
	return sorted[rank-1]
}
