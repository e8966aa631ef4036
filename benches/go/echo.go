package main

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// echoConns is how many loopback connections the echo workload keeps busy.
const echoConns = 1000

// echo: an echo server (one goroutine per connection) and a load client of
// echoConns connections in the same process, each making N/echoConns
// round trips of a 64-byte message. ns_per_op is per round trip.
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
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			defer c.Close()
			msg := bytes.Repeat([]byte{'x'}, 64)
			back := make([]byte, 64)
			for i := 0; i < per; i++ {
				if _, err := c.Write(msg); err != nil {
					break
				}
				if _, err := io.ReadFull(c, back); err != nil || !bytes.Equal(back, msg) {
					mu.Lock()
					bad++
					mu.Unlock()
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	return result{elapsed: elapsed, ops: float64(per * echoConns), ok: bad == 0,
		detail: sprintf("%d connections saw a wrong echo", bad)}
}
