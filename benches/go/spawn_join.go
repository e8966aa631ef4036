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
	elapsed := time.Since(start)
	got := ran.Load()
	return result{elapsed: elapsed, ops: float64(n), ok: got == int64(n),
		detail: sprintf("ran %d of %d goroutines", got, n)}
}
