// Command goro-go-twin is the Go twin of goro's `peerbench`: the same
// workloads written as plain, idiomatic Go (goroutines, channels, select,
// sync.WaitGroup, sync.Mutex), so goro can be compared against the runtime it
// imitates.
//
// Usage: GOMAXPROCS=P goro-go-twin WORKLOAD N
//
// It prints exactly one line:
//
//	impl=go workload=W n=N procs=P ns_per_op=X total_ms=Y [rss_kb_per_task=Z] [rtt_p50_us=A rtt_p99_us=B] [work_ms=W ideal_ratio=R] [cpu_ns_per_op=C] check=ok
//
// and exits 1 (with check=FAIL) when the workload's result is wrong. Timing
// covers only the workload, not process start-up.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"time"
)

// result is what one workload reports back to main.
type result struct {
	elapsed time.Duration // the timed part only
	ops     float64       // ns_per_op = elapsed / ops
	ok      bool          // the check passed
	rssKB   float64       // park_mem only: RSS growth per parked goroutine
	hasRSS  bool
	rttP50  time.Duration // echo only: round-trip latency percentiles
	rttP99  time.Duration
	hasRTT  bool
	extra   string // the program shapes' fields (shapes.go), printed as they are
	detail  string // printed to stderr when the check fails
}

type workload func(n int) result

var workloads = map[string]workload{
	"spawn_join":        spawnJoin,
	"skynet":            skynetBench,
	"yield":             yieldBench,
	"fib_spawn":         fibSpawn,
	"pingpong":          pingpong,
	"chan_spsc":         chanSPSC,
	"chan_mpmc":         chanMPMC,
	"ring":              ringBench,
	"select2":           select2,
	"timers":            timersBench,
	"mutex":             mutexBench,
	"park_mem":          parkMem,
	"ctx_cancel":        ctxCancel,
	"mutex_uncontended": mutexUncontended,
	"wg":                wgBench,
	"echo":              echoBench,
	"fs_read":           fsRead,
	"exec":              execBench,
	"gate_workers":      func(n int) result { return gateWorkers(n, false) },
	"gate_workers_wg":   func(n int) result { return gateWorkers(n, true) },
	"pool_cpu":          func(n int) result { return poolCPU(n, false) },
	"pool_cpu_wg":       func(n int) result { return poolCPU(n, true) },
	"pipeline_cpu":      pipelineCPU,
	"fanout_cpu":        fanoutCPU,
	"light_reqresp":     lightReqresp,
}

func usage() {
	names := make([]string, 0, len(workloads))
	for k := range workloads {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: GOMAXPROCS=P %s WORKLOAD N\nworkloads: %v\n", os.Args[0], names)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		usage()
	}
	name := os.Args[1]
	w, found := workloads[name]
	if !found {
		usage()
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "N must be a positive integer, got %q\n", os.Args[2])
		os.Exit(2)
	}

	r := w(n)

	line := fmt.Sprintf("impl=go workload=%s n=%d procs=%d ns_per_op=%.2f total_ms=%.3f",
		name, n, runtime.GOMAXPROCS(0),
		float64(r.elapsed.Nanoseconds())/r.ops,
		float64(r.elapsed.Nanoseconds())/1e6)
	if r.hasRSS {
		line += fmt.Sprintf(" rss_kb_per_task=%.2f", r.rssKB)
	}
	if r.hasRTT {
		line += fmt.Sprintf(" rtt_p50_us=%.1f rtt_p99_us=%.1f",
			float64(r.rttP50.Nanoseconds())/1e3, float64(r.rttP99.Nanoseconds())/1e3)
	}
	line += r.extra
	if r.ok {
		fmt.Println(line + " check=ok")
		return
	}
	fmt.Println(line + " check=FAIL")
	if r.detail != "" {
		fmt.Fprintln(os.Stderr, "check failed:", r.detail)
	}
	os.Exit(1)
}

// sumRange is 0 + 1 + ... + (n-1).
func sumRange(n int) int64 {
	return int64(n) * int64(n-1) / 2
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
