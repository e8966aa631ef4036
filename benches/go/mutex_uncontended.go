package main

import (
	"sync"
	"time"
)

// mutex_uncontended: N Lock/Unlock pairs of one sync.Mutex on one goroutine,
// incrementing a counter under it (the fast paths only).
func mutexUncontended(n int) result {
	var mu sync.Mutex
	counter := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	elapsed := time.Since(start)
	return result{elapsed: elapsed, ops: float64(n), ok: counter == n,
		detail: sprintf("count %d, want %d", counter, n)}
}
