package main

import (
	"runtime"
	"sync"
	"time"
)

// yield: two goroutines calling runtime.Gosched, N calls in total (N/2 each).
func yieldBench(n int) result {
	counts := [2]int{}
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(2)
	for g := 0; g < 2; g++ {
		calls := n / 2
		if g == 0 {
			calls = n - n/2 // odd N: the first one does the extra call
		}
		go func(g, calls int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				runtime.Gosched()
			}
			counts[g] = calls
		}(g, calls)
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := counts[0] + counts[1]
	return result{elapsed: elapsed, ops: float64(n), ok: got == n,
		detail: sprintf("%d yields, want %d", got, n)}
}
