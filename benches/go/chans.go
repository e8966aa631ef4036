package main

import (
	"sync"
	"time"
)

const chanCap = 1024

// chan_spsc: one producer sends 0..N-1 over a channel of capacity 1024; one
// consumer sums them.
func chanSPSC(n int) result {
	ch := make(chan int64, chanCap)
	done := make(chan int64)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- int64(i)
		}
		close(ch)
	}()
	go func() {
		var sum int64
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	sum := <-done
	elapsed := time.Since(start)
	want := sumRange(n)
	return result{elapsed: elapsed, ops: float64(n), ok: sum == want,
		detail: sprintf("sum %d, want %d", sum, want)}
}

const mpmcProducers, mpmcConsumers = 4, 4

// chan_mpmc: 4 producers (each sending its quarter of 0..N-1) and 4 consumers
// on one channel of capacity 1024; the channel is closed once every producer
// is done.
func chanMPMC(n int) result {
	ch := make(chan int64, chanCap)
	type partial struct{ sum, count int64 }
	results := make(chan partial, mpmcConsumers)
	var producers sync.WaitGroup
	start := time.Now()
	producers.Add(mpmcProducers)
	for p := 0; p < mpmcProducers; p++ {
		lo, hi := p*n/mpmcProducers, (p+1)*n/mpmcProducers
		go func(lo, hi int) {
			defer producers.Done()
			for i := lo; i < hi; i++ {
				ch <- int64(i)
			}
		}(lo, hi)
	}
	for c := 0; c < mpmcConsumers; c++ {
		go func() {
			var p partial
			for v := range ch {
				p.sum += v
				p.count++
			}
			results <- p
		}()
	}
	producers.Wait()
	close(ch)
	var total partial
	for c := 0; c < mpmcConsumers; c++ {
		p := <-results
		total.sum += p.sum
		total.count += p.count
	}
	elapsed := time.Since(start)
	want := sumRange(n)
	return result{elapsed: elapsed, ops: float64(n),
		ok:     total.sum == want && total.count == int64(n),
		detail: sprintf("sum %d (want %d), count %d (want %d)", total.sum, want, total.count, n)}
}
