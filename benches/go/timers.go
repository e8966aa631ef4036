package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// splitMix64 is the shared sequence that picks every goroutine's sleep.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// timers: N goroutines, goroutine i sleeping 1 + (i-th SplitMix64(42) output
// mod 10) ms; wait for all. total_ms is the number that matters.
func timersBench(n int) result {
	rng := splitMix64{state: 42}
	sleeps := make([]time.Duration, n)
	var maxSleep time.Duration
	for i := range sleeps {
		sleeps[i] = time.Duration(1+rng.next()%10) * time.Millisecond
		maxSleep = max(maxSleep, sleeps[i])
	}
	var woke atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(d time.Duration) {
			time.Sleep(d)
			woke.Add(1)
			wg.Done()
		}(sleeps[i])
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := woke.Load()
	return result{elapsed: elapsed, ops: float64(n), ok: got == int64(n) && elapsed >= maxSleep,
		detail: sprintf("%d of %d woke after %v (longest sleep %v)", got, n, elapsed, maxSleep)}
}
