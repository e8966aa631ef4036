package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ctx_cancel: N contexts under one WithCancel root: ceil(N/100) children of
// the root, the rest grandchildren spread over them (N = 10,000: 100
// children with 99 grandchildren each), one goroutine per context blocked
// in a select on its Done() and on its own inbox channel (nobody sends on
// it; a worker's usual shape). The timed part is from the root's cancel to
// every waiter having woken and seen Canceled (building the tree and
// starting the waiters is not timed); ns_per_op is that over N.
func ctxCancel(n int) result {
	root, cancel := context.WithCancel(context.Background())
	k := (n + 99) / 100
	ctxs := make([]context.Context, 0, n)
	cancels := make([]context.CancelFunc, 0, n)
	for i := 0; i < n; i++ {
		parent := root
		if i >= k {
			parent = ctxs[i%k]
		}
		ctx, f := context.WithCancel(parent)
		ctxs = append(ctxs, ctx)
		cancels = append(cancels, f)
	}
	var ready, woken sync.WaitGroup
	var canceled atomic.Int64
	ready.Add(n)
	woken.Add(n)
	inboxes := make([]chan struct{}, 0, n)
	for _, ctx := range ctxs {
		inbox := make(chan struct{})
		inboxes = append(inboxes, inbox)
		go func(ctx context.Context, inbox chan struct{}) {
			ready.Done()
			select {
			case <-ctx.Done():
			case <-inbox:
			}
			if errors.Is(ctx.Err(), context.Canceled) {
				canceled.Add(1)
			}
			woken.Done()
		}(ctx, inbox)
	}
	ready.Wait()
	start := time.Now()
	cancel()
	woken.Wait()
	elapsed := time.Since(start)
	for _, f := range cancels {
		f()
	}
	got := canceled.Load()
	return result{elapsed: elapsed, ops: float64(n), ok: got == int64(n),
		detail: sprintf("%d of %d waiters saw Canceled", got, n)}
}
