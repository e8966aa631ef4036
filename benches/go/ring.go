package main

import "time"

const ringSize = 503

// stopToken goes once around the ring after the run, so every goroutine can
// report its hop count and exit.
const stopToken = -1

// ring: 503 goroutines in a ring of unbuffered channels pass a token N hops;
// each receives t from its left and sends t-1 to its right; the one that
// receives 0 reports. The check: the hop counts add up to N and the winner is
// goroutine N mod 503.
func ringBench(n int) result {
	chans := make([]chan int, ringSize)
	for i := range chans {
		chans[i] = make(chan int)
	}
	winner := make(chan int)
	hopCounts := make(chan int, ringSize)
	start := time.Now()
	for i := 0; i < ringSize; i++ {
		go func(id int, in <-chan int, out chan<- int) {
			hops := 0
			for {
				t := <-in
				switch {
				case t == stopToken:
					if id != (n % ringSize) { // the winner started the stop round: it ends there
						out <- stopToken
					}
					hopCounts <- hops
					return
				case t == 0:
					winner <- id
				default:
					hops++
					out <- t - 1
				}
			}
		}(i, chans[i], chans[(i+1)%ringSize])
	}
	chans[0] <- n
	w := <-winner
	elapsed := time.Since(start)

	// Not timed: send the stop token round and add up the hops.
	chans[(w+1)%ringSize] <- stopToken
	total := 0
	for i := 0; i < ringSize; i++ {
		total += <-hopCounts
	}
	return result{elapsed: elapsed, ops: float64(n), ok: total == n && w == n%ringSize,
		detail: sprintf("%d hops (want %d), winner %d (want %d)", total, n, w, n%ringSize)}
}
