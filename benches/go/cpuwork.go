package main

// CPU work for the program-shape workloads (shapes.go), and the clocks that
// measure it: the twin of goro's benches/shapes/work.rs.
//
// A burst is real computation (a SplitMix64 walk whose result is stored in
// a global, so the compiler cannot drop it) sized in time: calibrate
// measures, on the calling thread's CPU clock and before anything is timed,
// how many steps take a microsecond. Every burst measures its own CPU time
// on the thread CPU clock and adds it to workNS, the "CPU work measured
// in-process" the shapes' ideal is made of. Unlike a goro goroutine, a Go
// goroutine can be preempted in the middle of a burst (sysmon, after 10 ms)
// and resumed on another thread, or another goroutine can run on its thread
// meanwhile; so a burst is run and measured in chunks of chunkTime, and a
// chunk whose thread changed, or whose thread CPU time is more than twice
// its calibrated size (another goroutine ran there in between), counts its
// calibrated size instead.

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// workNS is the thread CPU nanoseconds spent in bursts so far.
var workNS atomic.Int64

// sink keeps every burst's result observable.
var sink atomic.Uint64

const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID (Linux)

// threadCPU is the calling thread's CPU time (user+sys).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		panic("clock_gettime(CLOCK_THREAD_CPUTIME_ID): " + errno.Error())
	}
	return time.Duration(ts.Nano())
}

// processCPU is the whole process's CPU time (user+sys), from getrusage.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic("getrusage: " + err.Error())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spin runs steps SplitMix64 steps from seed, folded into one value (the
// twins' shared kernel).
func spin(steps, seed uint64) uint64 {
	x, acc := seed, uint64(0)
	for i := uint64(0); i < steps; i++ {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		acc ^= z ^ (z >> 31)
	}
	return acc
}

// work is the calibrated kernel: how many steps of spin take a microsecond.
type work struct{ stepsPerUS float64 }

// calibrationSample is the CPU time one calibration sample must reach.
const calibrationSample = 20 * time.Millisecond

// chunkTime is how much of a burst is measured at a time.
const chunkTime = 250 * time.Microsecond

// calibrate measures the kernel's speed on one locked thread: doubles the
// step count until one run takes calibrationSample, then keeps the fastest
// of three runs of that size. Untimed: call it before the workload starts
// its clock.
func calibrate() work {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	timeSteps := func(steps uint64) time.Duration {
		start := threadCPU()
		sink.Add(spin(steps, 1))
		return threadCPU() - start
	}
	steps := uint64(1 << 16)
	for timeSteps(steps) < calibrationSample {
		steps *= 2
	}
	best := timeSteps(steps)
	for i := 0; i < 2; i++ {
		best = min(best, timeSteps(steps))
	}
	return work{stepsPerUS: float64(steps) / (float64(best.Nanoseconds()) / 1e3)}
}

// burst computes for about d of CPU time and adds the thread CPU time it
// took to workNS, chunk by chunk.
func (w work) burst(d time.Duration) {
	chunkSteps := uint64(float64(chunkTime.Nanoseconds()) / 1e3 * w.stepsPerUS)
	steps := uint64(float64(d.Nanoseconds()) / 1e3 * w.stepsPerUS)
	var measured time.Duration
	for steps > 0 {
		now := min(steps, chunkSteps)
		expected := time.Duration(float64(now) / w.stepsPerUS * 1e3)
		tid, start := syscall.Gettid(), threadCPU()
		sink.Add(spin(now, uint64(start)))
		took := threadCPU() - start
		if syscall.Gettid() != tid || took > 2*expected {
			took = expected
		}
		measured += took
		steps -= now
	}
	workNS.Add(measured.Nanoseconds())
}
