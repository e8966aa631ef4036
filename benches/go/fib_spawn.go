package main

import "time"

// spawnDepth: below this depth one branch of fib runs in a new goroutine.
const spawnDepth = 13

func fibSerial(n int) int {
	if n < 2 {
		return n
	}
	return fibSerial(n-1) + fibSerial(n-2)
}

// fibPar computes fib(n), handing fib(n-1) to a new goroutine (joined over a
// channel of capacity 1) while depth < spawnDepth, serially below.
func fibPar(n, depth int) int {
	if n < 2 {
		return n
	}
	if depth >= spawnDepth {
		return fibSerial(n)
	}
	c := make(chan int, 1)
	go func() { c <- fibPar(n-1, depth+1) }()
	b := fibPar(n-2, depth+1)
	return <-c + b
}

// fib_spawn: one op = one whole fib(N); ns_per_op is the total time.
func fibSpawn(n int) result {
	start := time.Now()
	got := fibPar(n, 0)
	elapsed := time.Since(start)
	a, b := 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return result{elapsed: elapsed, ops: 1, ok: got == a,
		detail: sprintf("fib(%d) = %d, want %d", n, got, a)}
}
