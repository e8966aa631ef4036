package main

// Program shapes (issue 20): the twin of goro's benches/shapes/mod.rs,
// whole small programs measured by what they cost. The CPU shapes park
// their workers first (then a settle, so every thread has gone idle) and
// then hand them CPU bursts (cpuwork.go); their figure is wall time over
// the ideal, the CPU work measured in-process divided by min(P, workers)
// (ideal_ratio). light_reqresp is Go by Example's stateful goroutines; its
// figure is the process's CPU time (user+sys) per request.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	settle     = 10 * time.Millisecond  // parked workers are left alone this long
	gateTotal  = 200 * time.Millisecond // gate_workers' work in all
	job        = time.Millisecond       // one job of pool_cpu and fanout_cpu
	workers    = 8                      // workers of pool_cpu and fanout_cpu
	stages     = 4                      // stages of pipeline_cpu
	stageWork  = 250 * time.Microsecond // each stage's work per item
	readers    = 100                    // light_reqresp's readers
	writers    = 10                     // and writers
	stateKeys  = 5                      // keys of the owner's state
	clientRest = time.Millisecond       // light_reqresp's sleep after each request
)

// meter is the clocks a shape reads when its timed part starts.
type meter struct {
	start time.Time
	cpu   time.Duration
	work  int64
}

func startMeter() meter {
	return meter{start: time.Now(), cpu: processCPU(), work: workNS.Load()}
}

// finish is the result of ops operations since the start, with the shape's
// fields: given the number of workers that can compute at once (> 0),
// work_ms and ideal_ratio; always cpu_ns_per_op.
func (m meter) finish(ops, width int, ok bool) result {
	elapsed := time.Since(m.start)
	cpu := processCPU() - m.cpu
	extra := ""
	if width > 0 {
		work := time.Duration(workNS.Load() - m.work)
		ideal := work.Seconds() / float64(min(width, runtime.GOMAXPROCS(0)))
		extra = sprintf(" work_ms=%.3f ideal_ratio=%.3f",
			float64(work.Nanoseconds())/1e6, elapsed.Seconds()/ideal)
	}
	extra += sprintf(" cpu_ns_per_op=%.1f", float64(cpu.Nanoseconds())/float64(ops))
	return result{elapsed: elapsed, ops: float64(ops), ok: ok, extra: extra}
}

// startWorker starts f with go (useWG false) or wg.Go (useWG true),
// counted by wg either way.
func startWorker(useWG bool, wg *sync.WaitGroup, f func()) {
	if useWG {
		wg.Go(f)
		return
	}
	wg.Add(1)
	go func() {
		f()
		wg.Done()
	}()
}

// gate_workers (gate_workers_wg: started with wg.Go): N workers park on one
// gate channel; closing it releases them all, and each computes
// gateTotal/N. Timed from the close to the last done.
func gateWorkers(n int, useWG bool) result {
	w := calibrate()
	burst := gateTotal / time.Duration(n)
	gate := make(chan struct{})
	var ready, done sync.WaitGroup
	var computed atomic.Int64
	ready.Add(n)
	for i := 0; i < n; i++ {
		startWorker(useWG, &done, func() {
			ready.Done()
			<-gate
			w.burst(burst)
			computed.Add(1)
		})
	}
	ready.Wait()
	time.Sleep(settle)
	m := startMeter()
	close(gate)
	done.Wait()
	r := m.finish(n, n, computed.Load() == int64(n))
	r.detail = sprintf("%d of %d workers computed", computed.Load(), n)
	return r
}

// pool_cpu (pool_cpu_wg: started with wg.Go): workers started idle on one
// unbuffered job channel, then fed N jobs. Timed from the first send to
// the last worker's exit.
func poolCPU(n int, useWG bool) result {
	w := calibrate()
	jobs := make(chan int)
	var ready, done sync.WaitGroup
	var ran atomic.Int64
	ready.Add(workers)
	for i := 0; i < workers; i++ {
		startWorker(useWG, &done, func() {
			ready.Done()
			for range jobs {
				w.burst(job)
				ran.Add(1)
			}
		})
	}
	ready.Wait()
	time.Sleep(settle)
	m := startMeter()
	for j := 0; j < n; j++ {
		jobs <- j
	}
	close(jobs)
	done.Wait()
	r := m.finish(n, workers, ran.Load() == int64(n))
	r.detail = sprintf("%d of %d jobs ran", ran.Load(), n)
	return r
}

// pipeline_cpu: long-lived stages, each adding 1 to every item after
// stageWork of CPU, chained by unbuffered channels; a feeder goroutine
// sends the N items 0..N-1, this one drains the last stage. Timed from the
// feeder's start to the last item out.
func pipelineCPU(n int) result {
	w := calibrate()
	feed := make(chan int64)
	input := feed
	var ready sync.WaitGroup
	ready.Add(stages)
	for s := 0; s < stages; s++ {
		in, out := input, make(chan int64)
		go func() {
			ready.Done()
			for item := range in {
				w.burst(stageWork)
				out <- item + 1
			}
			close(out)
		}()
		input = out
	}
	ready.Wait()
	time.Sleep(settle)
	m := startMeter()
	go func() {
		for i := 0; i < n; i++ {
			feed <- int64(i)
		}
		close(feed)
	}()
	var count, sum int64
	for v := range input {
		count++
		sum += v
	}
	ok := count == int64(n) && sum == sumRange(n)+int64(n)*stages
	r := m.finish(n, stages, ok)
	r.detail = sprintf("%d items out, sum %d", count, sum)
	return r
}

// fanout_cpu: long-lived workers, each on its own unbuffered input
// channel, all answering on one unbuffered result channel; N rounds of one
// job per worker (fan-out), each round collecting every answer (fan-in).
// Timed from the first round to the last answer.
func fanoutCPU(n int) result {
	w := calibrate()
	results := make(chan int64)
	inputs := make([]chan int64, workers)
	var ready sync.WaitGroup
	ready.Add(workers)
	for i := range inputs {
		in := make(chan int64)
		inputs[i] = in
		go func() {
			ready.Done()
			for v := range in {
				w.burst(job)
				results <- v
			}
		}()
	}
	ready.Wait()
	time.Sleep(settle)
	m := startMeter()
	var sum int64
	for round := int64(0); round < int64(n); round++ {
		for _, in := range inputs {
			in <- round
		}
		for i := 0; i < workers; i++ {
			sum += <-results
		}
	}
	for _, in := range inputs {
		close(in)
	}
	r := m.finish(n*workers, workers, sum == workers*sumRange(n))
	r.detail = sprintf("sum of answers %d, want %d", sum, workers*sumRange(n))
	return r
}

// readOp asks the owner for state[key], answered on resp.
type readOp struct {
	key  int
	resp chan int64
}

// writeOp asks the owner to add 1 to state[key], acknowledged on resp.
type writeOp struct {
	key  int
	resp chan bool
}

// light_reqresp: Go by Example's stateful goroutines. One owner goroutine
// keeps the state and serves reads and writes (select over two unbuffered
// channels, each request bringing a fresh unbuffered reply channel);
// readers + writers goroutines each make N/110 requests, sleeping 1 ms
// after each. Timed from the clients' start to the last reply;
// cpu_ns_per_op is the figure.
func lightReqresp(n int) result {
	per := n / (readers + writers)
	reads := make(chan readOp)
	writes := make(chan writeOp)
	total := make(chan int64)
	go func() {
		var state [stateKeys]int64
		for {
			select {
			case op, ok := <-reads:
				if !ok {
					total <- sumState(state)
					return
				}
				op.resp <- state[op.key]
			case op, ok := <-writes:
				if !ok {
					total <- sumState(state)
					return
				}
				state[op.key]++
				op.resp <- true
			}
		}
	}()
	var answered atomic.Int64
	var done sync.WaitGroup
	m := startMeter()
	done.Add(readers + writers)
	for client := 0; client < readers+writers; client++ {
		go func() {
			for op := 0; op < per; op++ {
				key := (client + op) % stateKeys
				if client < readers {
					read := readOp{key: key, resp: make(chan int64)}
					reads <- read
					<-read.resp
				} else {
					write := writeOp{key: key, resp: make(chan bool)}
					writes <- write
					<-write.resp
				}
				answered.Add(1)
				time.Sleep(clientRest)
			}
			done.Done()
		}()
	}
	done.Wait()
	ops := per * (readers + writers)
	r := m.finish(ops, 0, answered.Load() == int64(ops))
	close(reads)
	close(writes)
	written := <-total
	r.ok = r.ok && written == int64(per*writers)
	r.detail = sprintf("%d of %d answered, %d writes counted", answered.Load(), ops, written)
	return r
}

func sumState(state [stateKeys]int64) (sum int64) {
	for _, v := range state {
		sum += v
	}
	return sum
}
