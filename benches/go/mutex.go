package main

import (
	"sync"
	"time"
)

const mutexGoroutines = 1000

// mutex: 1000 goroutines each doing N/1000 increments of one counter under a
// sync.Mutex (the first N mod 1000 do one more, so the total is N).
func mutexBench(n int) result {
	var mu sync.Mutex
	counter := 0
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(mutexGoroutines)
	for g := 0; g < mutexGoroutines; g++ {
		k := n / mutexGoroutines
		if g < n%mutexGoroutines {
			k++
		}
		go func(k int) {
			defer wg.Done()
			for i := 0; i < k; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	got := counter
	mu.Unlock()
	return result{elapsed: elapsed, ops: float64(n), ok: got == n,
		detail: sprintf("count %d, want %d", got, n)}
}
