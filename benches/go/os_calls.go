package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// osWorkers is how many goroutines the fs_read and exec workloads run.
const osWorkers = 64

// fs_read: osWorkers goroutines reading a cached 4 KiB file with
// os.ReadFile, N reads in all. ns_per_op is per read.
func fsRead(n int) result {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("goro-go-twin-%d", os.Getpid()))
	content := make([]byte, 4096)
	for i := range content {
		content[i] = byte(i)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return result{detail: err.Error()}
	}
	defer os.Remove(path)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, content) {
		return result{detail: "warm-up read failed"}
	}
	per := n / osWorkers
	var bad atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < osWorkers; w++ {
		wg.Go(func() {
			for i := 0; i < per; i++ {
				if b, err := os.ReadFile(path); err != nil || len(b) != 4096 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return result{elapsed: elapsed, ops: float64(per * osWorkers), ok: bad.Load() == 0,
		detail: fmt.Sprintf("%d failed reads", bad.Load())}
}

// exec: osWorkers goroutines each running `true` with exec.Command(...).Run(),
// N runs in all. ns_per_op is per run.
func execBench(n int) result {
	per := n / osWorkers
	var bad atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < osWorkers; w++ {
		wg.Go(func() {
			for i := 0; i < per; i++ {
				if err := exec.Command("true").Run(); err != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return result{elapsed: elapsed, ops: float64(per * osWorkers), ok: bad.Load() == 0,
		detail: fmt.Sprintf("%d failed runs", bad.Load())}
}
