package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// spawn_join: N trivial goroutines, each signalling a WaitGroup; wait for all.
func spawnJoin(n int) result {
	var ran atomic.Int64 // the check only: every goroutine really ran
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			ran.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	return goroutinesRan(start, &ran, n)
}

// wg: N goroutines started with Go 1.25's wg.Go (an Add(1) per goroutine, a
// Done when it returns), each adding 1 to a counter; one Wait for all.
func wgBench(n int) result {
	var ran atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Go(func() { ran.Add(1) })
	}
	wg.Wait()
	return goroutinesRan(start, &ran, n)
}

// goroutinesRan is the result of a run started at start in which each of n
// goroutines added 1 to ran.
func goroutinesRan(start time.Time, ran *atomic.Int64, n int) result {
	elapsed := time.Since(start)
	got := ran.Load()
	return result{elapsed: elapsed, ops: float64(n), ok: got == int64(n),
		detail: sprintf("ran %d of %d goroutines", got, n)}
}
