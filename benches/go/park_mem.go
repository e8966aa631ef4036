package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// vmRSSKB reads VmRSS from /proc/self/status (Linux), in kB.
func vmRSSKB() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0, false
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// park_mem: N goroutines each blocked receiving on its own (unbuffered)
// channel. RSS is read before spawning and once all N are parked (each
// signals a WaitGroup just before blocking; then a 50 ms settle). The timed
// part is spawn+park plus wake+exit; the settle sleep and the RSS reads are
// not timed.
func parkMem(n int) result {
	chans := make([]chan struct{}, n) // the waker's handles, not a per-task cost
	baseline, ok := vmRSSKB()         // so the baseline is read after this
	if !ok {
		return result{ops: float64(n), detail: "cannot read VmRSS from /proc/self/status"}
	}

	var parked, exited sync.WaitGroup
	var woke atomic.Int64
	start := time.Now()
	parked.Add(n)
	exited.Add(n)
	for i := 0; i < n; i++ {
		c := make(chan struct{})
		chans[i] = c
		go func() {
			parked.Done()
			<-c
			woke.Add(1)
			exited.Done()
		}()
	}
	parked.Wait()
	spawnPark := time.Since(start)

	time.Sleep(50 * time.Millisecond)
	after, _ := vmRSSKB()

	wakeStart := time.Now()
	for _, c := range chans {
		c <- struct{}{}
	}
	exited.Wait()
	elapsed := spawnPark + time.Since(wakeStart)

	got := woke.Load()
	return result{elapsed: elapsed, ops: float64(n), ok: got == int64(n),
		rssKB: float64(after-baseline) / float64(n), hasRSS: true,
		detail: sprintf("%d of %d woke", got, n)}
}
