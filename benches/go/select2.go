package main

import "time"

// select2: two producers, each sending its half of 0..N-1 on its own
// unbuffered channel; one consumer selects over both until it has N values.
func select2(n int) result {
	a := make(chan int64)
	b := make(chan int64)
	done := make(chan int64)
	half := n / 2
	start := time.Now()
	go func() {
		for i := 0; i < half; i++ {
			a <- int64(i)
		}
	}()
	go func() {
		for i := half; i < n; i++ {
			b <- int64(i)
		}
	}()
	go func() {
		var sum int64
		for got := 0; got < n; got++ {
			select {
			case v := <-a:
				sum += v
			case v := <-b:
				sum += v
			}
		}
		done <- sum
	}()
	sum := <-done
	elapsed := time.Since(start)
	want := sumRange(n)
	return result{elapsed: elapsed, ops: float64(n), ok: sum == want,
		detail: sprintf("sum %d, want %d", sum, want)}
}
