package main

import "time"

// skynet: the classic benchmark (github.com/atemerev/skynet, Go version).
// Every node spawns `div` children and sums what they send back over a
// per-node unbuffered channel; leaves send their own number.
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	var sum int
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

// skynetBench: N leaves (a power of 10: 1,000,000 is the classic 6 levels).
func skynetBench(n int) result {
	if !powerOf10(n) {
		return result{ops: 1, detail: sprintf("skynet needs N a power of 10, got %d", n)}
	}
	start := time.Now()
	c := make(chan int)
	go skynet(c, 0, n, 10)
	got := <-c
	elapsed := time.Since(start)
	want := sumRange(n)
	return result{elapsed: elapsed, ops: float64(n), ok: int64(got) == want,
		detail: sprintf("sum %d, want %d", got, want)}
}

func powerOf10(n int) bool {
	for n > 1 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}
