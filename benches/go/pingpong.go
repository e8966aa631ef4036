package main

import "time"

// pingpong: N round trips between two goroutines over two unbuffered channels.
func pingpong(n int) result {
	ping := make(chan int)
	pong := make(chan int)
	done := make(chan int)
	start := time.Now()
	go func() { // the ponger
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	go func() { // the pinger
		last := 0
		for i := 0; i < n; i++ {
			ping <- i
			last = <-pong
		}
		done <- last
	}()
	last := <-done
	elapsed := time.Since(start)
	return result{elapsed: elapsed, ops: float64(n), ok: last == n,
		detail: sprintf("last reply %d, want %d", last, n)}
}
