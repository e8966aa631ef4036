//! Twins of the Go programs in seed `004_c778b4b91ec65a56.txt` ("Concurrency
//! in Go", a guide from goroutines to patterns and pitfalls). Most of its Go
//! is fragments; each twin's doc comment shows the smallest complete Go
//! program the fragment was completed into. In the document's order.
//!
//! Left without a twin: 6.3 and 10.2 hold no code. The "❌" half of 8.1
//! loops forever with no way to stop it, so no program can run it to an
//! end. The "❌" half of 9.2 is a data race on a plain `int`: safe Rust
//! rejects it at compile time (a `'static` goroutine cannot borrow the
//! caller's counter mutably); 5.3's first program, the same race, has a
//! twin through [`racy_increment`], which keeps its lost updates. The "❌"
//! half of 9.3 copies a mutex by calling a value-receiver method: goro's
//! `Mutex` is neither `Copy` nor `Clone`, so the copy Go makes silently
//! cannot be written.

use crate::harness::{go_err, go_slice, millis, racy_increment, secs, Out, Twin};
use goro::context::{self, Context};
use goro::errgroup;
use goro::sync::{Mutex, RwLock, WaitGroup};
use goro::time::{after, sleep, Ticker};
use goro::{chan, go, select, Receiver, RecvError, Sender};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    basic_goroutine,
    passing_parameters,
    proper_cleanup,
    channel_types,
    buffered_vs_unbuffered,
    channel_example,
    closing_channels,
    select_statement,
    non_blocking,
    wait_group,
    rw_mutex,
    race_counter,
    atomic_add,
    atomic_counter,
    creating_contexts,
    context_in_functions,
    worker_pool,
    fan_out_fan_in,
    rate_limiter,
    context_cancellation,
    sender_closes,
    error_channel,
    errgroup_errors,
    goroutine_leak,
    goroutine_leak_context,
    race_condition_fixed,
    mutex_copying,
];

/// 1.2 "Goroutines" and 2.1 "Basic Goroutine" (the same fragment), completed
/// with a `main` that waits a second so that the goroutine gets to print:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func main() {
///     // Start a goroutine
///     go func() {
///         fmt.Println("Hello from goroutine!")
///     }()
///     time.Sleep(time.Second)
/// }
/// ```
pub fn basic_goroutine(out: &Out) {
    // Start a goroutine
    let o = out.clone();
    go!(move || {
        outln!(o, "Hello from goroutine!");
    });
    sleep(secs(1));
}

fn message(out: Out, msg: &str, id: i32) {
    outln!(out, "Message {id}: {msg}");
}

/// 2.2 "Passing Parameters", completed with a `main` that waits a second.
/// Since Go 1.22 each iteration has its own `i`, so the "bad" loop prints 0
/// to 4 (in some order) rather than 5s. In Rust a goroutine cannot borrow
/// the loop variable at all: the `move` closure copies it, as Go 1.22 does.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func main() {
///     // ✅ Good: Pass parameters explicitly
///     go func(msg string, id int) {
///         fmt.Printf("Message %d: %s\n", id, msg)
///     }("Hello", 1)
///
///     // ❌ Bad: Closure captures variable
///     for i := 0; i < 5; i++ {
///         go func() {
///             fmt.Println(i) // All goroutines may print "5"!
///         }()
///     }
///
///     time.Sleep(time.Second)
/// }
/// ```
pub fn passing_parameters(out: &Out) {
    // ✅ Good: Pass parameters explicitly
    go!(message(out.clone(), "Hello", 1));

    // ❌ Bad in Go before 1.22: Closure captures variable
    for i in 0..5 {
        let o = out.clone();
        go!(move || {
            outln!(o, "{i}");
        });
    }

    sleep(secs(1));
}

/// 2.3 "Goroutine with Proper Cleanup" (needs only `package` and
/// `import`). Main returns after 5 seconds, as the goroutine wakes from its
/// fifth second of work; the deferred cancel comes as the program exits,
/// so the goroutine almost never gets to print (Go printed nothing in every
/// run; either outcome is Go's).
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "time"
/// )
///
/// func main() {
///     ctx, cancel := context.WithCancel(context.Background())
///     defer cancel() // Important: ensures cleanup
///
///     go func(ctx context.Context) {
///         for {
///             select {
///             case <-ctx.Done():
///                 fmt.Println("Cleanup and exit")
///                 return
///             default:
///                 // Do work
///                 time.Sleep(time.Second)
///             }
///         }
///     }(ctx)
///
///     time.Sleep(5 * time.Second)
/// }
/// ```
pub fn proper_cleanup(out: &Out) {
    // Dropped when main returns, which cancels: Go's `defer cancel()`.
    let (ctx, _cancel) = context::with_cancel(&context::background()); // Important: ensures cleanup

    let o = out.clone();
    go!(move || loop {
        select! {
            recv(ctx.done()) -> _ => {
                outln!(o, "Cleanup and exit");
                return;
            }
            default => {
                // Do work
                sleep(secs(1));
            }
        }
    });

    sleep(secs(5));
}

// Read-only (receive-only)
fn read_only(_ch: &Receiver<&str>) {}

// Write-only (send-only)
fn write_only(_ch: &Sender<&str>) {}

/// 3.1 "Channel Types", completed with a `main` that uses each declaration
/// and prints the capacities:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// // Read-only (receive-only)
/// func readOnly(ch <-chan string) {}
///
/// // Write-only (send-only)
/// func writeOnly(ch chan<- string) {}
///
/// func main() {
///     // Unbuffered - blocks until receiver is ready
///     ch := make(chan string)
///
///     // Buffered - blocks only when buffer is full
///     buffered := make(chan string, 5)
///
///     readOnly(ch)
///     writeOnly(buffered)
///     fmt.Println(cap(ch), cap(buffered))
/// }
/// ```
pub fn channel_types(out: &Out) {
    // Unbuffered - blocks until receiver is ready
    let (_ch_tx, ch) = chan::<&str>(0);

    // Buffered - blocks only when buffer is full
    let (buffered, _buffered_rx) = chan::<&str>(5);

    read_only(&ch);
    write_only(&buffered);
    outln!(out, "{} {}", ch.cap(), buffered.cap());
}

/// 3.2 "Buffered vs Unbuffered", completed with a `main` that prints the
/// capacities:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     unbuffered := make(chan int)   // Unbuffered channel of integer type
///     buffered := make(chan int, 10) // Buffered channel of integer type
///     fmt.Println(cap(unbuffered), cap(buffered))
/// }
/// ```
pub fn buffered_vs_unbuffered(out: &Out) {
    let (unbuffered, _) = chan::<i32>(0); // Unbuffered channel of integer type
    let (buffered, _) = chan::<i32>(10); // Buffered channel of integer type
    outln!(out, "{} {}", unbuffered.cap(), buffered.cap());
}

/// 3.3 "Channel Example" (needs only `package` and `import`):
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int)
///
///     go func() {
///         ch <- 42 // Send value
///     }()
///
///     value := <-ch      // Receive value
///     fmt.Println(value) // 42
/// }
/// ```
pub fn channel_example(out: &Out) {
    let (tx, ch) = chan::<i32>(0);

    go!(move || {
        tx.send(42).unwrap(); // Send value
    });

    let value = ch.recv().unwrap(); // Receive value
    outln!(out, "{value}"); // 42
}

/// 3.4 "Closing Channels": the fragment's three pieces arranged as a sender
/// and a receiver use them. Go's `value, ok := <-ch` is goro's `ch.recv()`:
/// `Err(RecvError)` is `ok == false`.
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int)
///     go func() {
///         for i := 1; i <= 3; i++ {
///             ch <- i
///         }
///         // Sender closes the channel
///         close(ch)
///     }()
///
///     // Range over channel until closed
///     for value := range ch {
///         fmt.Println(value)
///     }
///
///     // Check if channel is closed
///     value, ok := <-ch
///     if !ok {
///         fmt.Println("Channel closed")
///     }
///     _ = value // the zero value
/// }
/// ```
pub fn closing_channels(out: &Out) {
    let (tx, ch) = chan::<i32>(0);
    go!(move || {
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
        // Sender closes the channel
        tx.close();
    });

    // Range over channel until closed
    for value in &ch {
        outln!(out, "{value}");
    }

    // Check if channel is closed
    if let Err(RecvError) = ch.recv() {
        outln!(out, "Channel closed");
    }
}

/// 4 "Select Statement", completed with a `main` that runs the `select`
/// twice: once with a message waiting on `ch1`, then with none (the
/// `default` case wins over the `time.After` case, which is not ready yet).
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func main() {
///     ch1 := make(chan string, 1)
///     ch2 := make(chan string, 1)
///     ch1 <- "hello"
///
///     for i := 0; i < 2; i++ {
///         select {
///         case msg := <-ch1:
///             fmt.Println("Received from ch1:", msg)
///         case msg := <-ch2:
///             fmt.Println("Received from ch2:", msg)
///         case <-time.After(time.Second):
///             fmt.Println("Timeout!")
///         default:
///             fmt.Println("No message available")
///         }
///     }
/// }
/// ```
pub fn select_statement(out: &Out) {
    // Senders stay alive (bound to names) so that neither channel is closed.
    let (ch1_tx, ch1) = chan::<&str>(1);
    let (_ch2_tx, ch2) = chan::<&str>(1);
    ch1_tx.send("hello").unwrap();

    for _ in 0..2 {
        select! {
            recv(ch1) -> msg => outln!(out, "Received from ch1: {}", msg.unwrap()),
            recv(ch2) -> msg => outln!(out, "Received from ch2: {}", msg.unwrap()),
            recv(after(secs(1))) -> _ => outln!(out, "Timeout!"),
            default => outln!(out, "No message available"),
        }
    }
}

/// 4.1 "Non-blocking Channel Operations", completed with a `main` and a
/// channel nobody sends on:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan string)
///
///     select {
///     case msg := <-ch:
///         fmt.Println(msg)
///     default:
///         fmt.Println("No message, moving on")
///     }
/// }
/// ```
pub fn non_blocking(out: &Out) {
    // The sender stays alive (bound to a name) so that `ch` is not closed.
    let (_tx, ch) = chan::<&str>(0);

    select! {
        recv(ch) -> msg => outln!(out, "{}", msg.unwrap()),
        default => outln!(out, "No message, moving on"),
    }
}

/// 5.1 "WaitGroup", completed with `main`:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
/// )
///
/// func main() {
///     var wg sync.WaitGroup
///
///     for i := 0; i < 3; i++ {
///         wg.Add(1) // Must be called before goroutine starts
///         go func(id int) {
///             defer wg.Done() // Called when goroutine finishes
///             fmt.Printf("Worker %d\n", id)
///         }(i)
///     }
///
///     wg.Wait() // Blocks until counter is zero
/// }
/// ```
pub fn wait_group(out: &Out) {
    let wg = WaitGroup::new();

    for i in 0..3 {
        let o = out.clone();
        // `add` before the goroutine starts, `done` when it finishes.
        wg.go(move || {
            outln!(o, "Worker {i}");
        });
    }

    wg.wait(); // Blocks until counter is zero
}

/// 5.2's `Counter`, renamed because 5.3 has a `Counter` too. Go's `mu` and
/// the `count` map it guards are one `RwLock` in Rust, which owns its data.
struct MapCounter {
    count: RwLock<HashMap<String, i32>>,
}

impl MapCounter {
    fn increment(&self, key: &str) {
        let mut count = self.count.write();
        *count.entry(key.to_string()).or_default() += 1;
    }

    fn get(&self, key: &str) -> i32 {
        let count = self.count.read(); // Read lock allows multiple readers
        count.get(key).copied().unwrap_or_default()
    }
}

/// 5.2 "Mutex": the `Counter` type, completed with a `main` where a
/// hundred goroutines increment one key and then a hundred read it:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
///     "sync/atomic"
/// )
///
/// type Counter struct {
///     mu    sync.RWMutex
///     count map[string]int
/// }
///
/// func (c *Counter) Increment(key string) {
///     c.mu.Lock()
///     defer c.mu.Unlock()
///     c.count[key]++
/// }
///
/// func (c *Counter) Get(key string) int {
///     c.mu.RLock() // Read lock allows multiple readers
///     defer c.mu.RUnlock()
///     return c.count[key]
/// }
///
/// func main() {
///     c := &Counter{count: make(map[string]int)}
///     var wg sync.WaitGroup
///     for i := 0; i < 100; i++ {
///         wg.Add(1)
///         go func() {
///             defer wg.Done()
///             c.Increment("hits")
///         }()
///     }
///     wg.Wait()
///
///     var reads sync.WaitGroup
///     var sum atomic.Int64
///     for i := 0; i < 100; i++ {
///         reads.Add(1)
///         go func() {
///             defer reads.Done()
///             sum.Add(int64(c.Get("hits")))
///         }()
///     }
///     reads.Wait()
///     fmt.Println(c.Get("hits"), c.Get("misses"), sum.Load())
/// }
/// ```
pub fn rw_mutex(out: &Out) {
    let c = Arc::new(MapCounter {
        count: RwLock::new(HashMap::new()),
    });
    let wg = WaitGroup::new();
    for _ in 0..100 {
        let c = c.clone();
        wg.go(move || c.increment("hits"));
    }
    wg.wait();

    let reads = WaitGroup::new();
    let sum = Arc::new(AtomicI64::new(0));
    for _ in 0..100 {
        let (c, sum) = (c.clone(), sum.clone());
        reads.go(move || {
            sum.fetch_add(c.get("hits").into(), Ordering::SeqCst);
        });
    }
    reads.wait();
    let sum = sum.load(Ordering::SeqCst);
    outln!(out, "{} {} {sum}", c.get("hits"), c.get("misses"));
}

/// 5.3 "Atomic Operations": the program with the data race (complete in
/// the seed but for its unused `runtime` and `time` imports, which Go
/// rejects). Go's `counter++` is the race; the twin keeps its lost updates
/// with [`racy_increment`]. The final count is at most 1,000,000, and less
/// whenever an update was lost.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
/// )
///
/// func main() {
///     counter := 0
///     numGoroutines := 1000
///     var wg sync.WaitGroup
///
///     wg.Add(numGoroutines)
///     for i := 0; i < numGoroutines; i++ {
///         go func() {
///             defer wg.Done()
///             for j := 0; j < 1000; j++ {
///                 counter++ // Data race!
///             }
///         }()
///     }
///
///     wg.Wait()
///     fmt.Println("Final Counter (potential race):", counter)
/// }
/// ```
pub fn race_counter(out: &Out) {
    let counter = count_concurrently(racy_increment); // Data race!
    outln!(out, "Final Counter (potential race): {counter}");
}

/// The body of both 5.3 programs, which differ only in how they add 1:
/// a thousand goroutines each `increment` a shared counter (from 0) a
/// thousand times; returns the count once all are done.
fn count_concurrently(increment: fn(&AtomicI64)) -> i64 {
    let counter = Arc::new(AtomicI64::new(0));
    let num_goroutines = 1000;
    let wg = WaitGroup::new();

    wg.add(num_goroutines);
    for _ in 0..num_goroutines {
        let (counter, wg) = (counter.clone(), wg.clone());
        go!(move || {
            for _ in 0..1000 {
                increment(&counter);
            }
            wg.done();
        });
    }

    wg.wait();
    counter.load(Ordering::SeqCst)
}

/// 5.3 "Atomic Operations": the `atomic.AddInt64` program (complete in the
/// seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
///     "sync/atomic" // Import the atomic package
/// )
///
/// func main() {
///     var counter int64 // Use int64 for atomic operations
///     numGoroutines := 1000
///     var wg sync.WaitGroup
///
///     wg.Add(numGoroutines)
///     for i := 0; i < numGoroutines; i++ {
///         go func() {
///             defer wg.Done()
///             for j := 0; j < 1000; j++ {
///                 atomic.AddInt64(&counter, 1) // Atomically add 1
///             }
///         }()
///     }
///
///     wg.Wait()
///     fmt.Println("Final Counter (with atomic):", counter) // Should be 1,000,000
/// }
/// ```
pub fn atomic_add(out: &Out) {
    // Atomically add 1 to an int64
    let counter = count_concurrently(|counter| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    outln!(out, "Final Counter (with atomic): {counter}"); // Should be 1,000,000
}

struct Counter {
    count: AtomicI64,
}

impl Counter {
    fn increment(&self) {
        self.count.fetch_add(1, Ordering::SeqCst); // Atomic, no lock needed
    }

    fn value(&self) -> i64 {
        self.count.load(Ordering::SeqCst)
    }
}

/// 5.3 "Atomic Operations": the `Counter` type, completed with a `main`
/// where a thousand goroutines increment it and report on a channel:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync/atomic"
/// )
///
/// type Counter struct {
///     count atomic.Int64
/// }
///
/// func (c *Counter) Increment() {
///     c.count.Add(1) // Atomic, no lock needed
/// }
///
/// func (c *Counter) Value() int64 {
///     return c.count.Load()
/// }
///
/// func main() {
///     var c Counter
///     done := make(chan bool)
///     for i := 0; i < 1000; i++ {
///         go func() {
///             c.Increment()
///             done <- true
///         }()
///     }
///     for i := 0; i < 1000; i++ {
///         <-done
///     }
///     fmt.Println(c.Value()) // 1000
/// }
/// ```
pub fn atomic_counter(out: &Out) {
    let c = Arc::new(Counter {
        count: AtomicI64::new(0),
    });
    let (done_tx, done) = chan::<bool>(0);
    for _ in 0..1000 {
        let c = c.clone();
        let done_tx = done_tx.clone();
        go!(move || {
            c.increment();
            done_tx.send(true).unwrap();
        });
    }
    for _ in 0..1000 {
        done.recv().unwrap();
    }
    outln!(out, "{}", c.value()); // 1000
}

/// 6.1 "Creating Contexts": each constructor in a function of its own
/// (the fragment declares `ctx` and `cancel` once per constructor, which Go
/// rejects in one scope), each printing what its context reports. Deadlines
/// are scaled like every duration, so the hour is still an hour of the
/// program's time.
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "time"
/// )
///
/// func main() {
///     // Background context (root)
///     ctx := context.Background()
///     fmt.Println("Background:", ctx.Err())
///
///     withCancel(ctx)
///     withTimeout(ctx)
///     withDeadline(ctx)
///     withValue(ctx)
/// }
///
/// func withCancel(parent context.Context) {
///     // With cancellation
///     ctx, cancel := context.WithCancel(parent)
///     defer cancel()
///     fmt.Println("WithCancel:", ctx.Err())
///     cancel()
///     fmt.Println("WithCancel after cancel:", ctx.Err())
/// }
///
/// func withTimeout(parent context.Context) {
///     // With timeout
///     ctx, cancel := context.WithTimeout(parent, 5*time.Second)
///     defer cancel()
///     d, _ := ctx.Deadline()
///     fmt.Println("WithTimeout:", ctx.Err(), time.Until(d) > 4*time.Second)
/// }
///
/// func withDeadline(parent context.Context) {
///     // With deadline
///     ctx, cancel := context.WithDeadline(parent, time.Now().Add(time.Hour))
///     defer cancel()
///     d, _ := ctx.Deadline()
///     fmt.Println("WithDeadline:", ctx.Err(), time.Until(d) > 59*time.Minute)
/// }
///
/// func withValue(parent context.Context) {
///     // With value (use sparingly!)
///     ctx := context.WithValue(parent, "key", "value")
///     fmt.Println("WithValue:", ctx.Value("key"))
/// }
/// ```
pub fn creating_contexts(out: &Out) {
    // Background context (root)
    let ctx = context::background();
    outln!(out, "Background: {}", go_err(ctx.err()));

    with_cancel(out, &ctx);
    with_timeout(out, &ctx);
    with_deadline(out, &ctx);
    with_value(out, &ctx);
}

fn with_cancel(out: &Out, parent: &Context) {
    // With cancellation
    let (ctx, cancel) = context::with_cancel(parent);
    outln!(out, "WithCancel: {}", go_err(ctx.err()));
    cancel.cancel();
    outln!(out, "WithCancel after cancel: {}", go_err(ctx.err()));
}

/// Whether `ctx`'s deadline is more than `margin` away (Go's
/// `time.Until(d) > margin`; a context without one has the zero time).
fn deadline_beyond(ctx: &Context, margin: Duration) -> bool {
    ctx.deadline()
        .is_some_and(|d| d.saturating_duration_since(Instant::now()) > margin)
}

fn with_timeout(out: &Out, parent: &Context) {
    // With timeout
    let (ctx, _cancel) = context::with_timeout(parent, secs(5));
    let far = deadline_beyond(&ctx, secs(4));
    outln!(out, "WithTimeout: {} {far}", go_err(ctx.err()));
}

fn with_deadline(out: &Out, parent: &Context) {
    // With deadline
    let (ctx, _cancel) = context::with_deadline(parent, Instant::now() + secs(3600));
    let far = deadline_beyond(&ctx, secs(59 * 60));
    outln!(out, "WithDeadline: {} {far}", go_err(ctx.err()));
}

fn with_value(out: &Out, parent: &Context) {
    // With value (use sparingly!)
    let ctx = context::with_value(parent, "key", "value");
    outln!(out, "WithValue: {}", ctx.value::<&str>("key").unwrap());
}

/// 6.2's `doWork` and 8.1's good `longTask`, which are the same function:
/// spins until `ctx` is done and returns why.
fn work_until_done(ctx: &Context) -> Result<(), context::Error> {
    loop {
        select! {
            recv(ctx.done()) -> _ => return Err(ctx.err().unwrap()),
            default => {
                // Do work
            }
        }
    }
}

/// 6.2 "Using Context in Functions": `doWork` ([`work_until_done`]), completed with a `main`
/// that cancels its context from another goroutine after half a second
/// while `doWork` spins (its `default` case does no work, so the loop
/// never blocks: the canceller must get a turn all the same).
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "time"
/// )
///
/// func doWork(ctx context.Context) error {
///     for {
///         select {
///         case <-ctx.Done():
///             return ctx.Err()
///         default:
///             // Do work
///         }
///     }
/// }
///
/// func main() {
///     ctx, cancel := context.WithCancel(context.Background())
///     go func() {
///         time.Sleep(500 * time.Millisecond)
///         cancel()
///     }()
///     fmt.Println("doWork:", doWork(ctx))
/// }
/// ```
pub fn context_in_functions(out: &Out) {
    let (ctx, cancel) = context::with_cancel(&context::background());
    go!(move || {
        sleep(millis(500));
        cancel.cancel();
    });
    outln!(out, "doWork: {}", go_err(work_until_done(&ctx).err()));
}

type Job = i32;
/// Go's `Result` (Rust's `Result` is taken).
type JobResult = i32;

fn process(job: Job) -> JobResult {
    job * job
}

/// Go's `WorkerPool`.
fn run_worker_pool(jobs: &[Job], num_workers: usize) -> Vec<JobResult> {
    let (jobs_tx, jobs_chan) = chan::<Job>(jobs.len());
    let (results_tx, results) = chan::<JobResult>(jobs.len());
    let wg = WaitGroup::new();

    // Start workers
    for _ in 0..num_workers {
        let (jobs_chan, results_tx) = (jobs_chan.clone(), results_tx.clone());
        wg.go(move || {
            for job in &jobs_chan {
                results_tx.send(process(job)).unwrap();
            }
        });
    }

    // Send jobs
    for &job in jobs {
        jobs_tx.send(job).unwrap();
    }
    jobs_tx.close();

    // Wait and close results
    go!(move || {
        wg.wait();
        results_tx.close();
    });

    // Collect results
    let mut output = Vec::new();
    for r in &results {
        output.push(r);
    }
    output
}

/// 7.1 "Worker Pool": `WorkerPool`, completed with `Job`, `Result`, a
/// `process` that squares and a `main` that sorts the results (they come
/// in any order) and prints them:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "slices"
///     "sync"
/// )
///
/// type Job int
/// type Result int
///
/// func process(job Job) Result {
///     return Result(job * job)
/// }
///
/// func WorkerPool(jobs []Job, numWorkers int) []Result {
///     jobsChan := make(chan Job, len(jobs))
///     results := make(chan Result, len(jobs))
///     var wg sync.WaitGroup
///
///     // Start workers
///     for i := 0; i < numWorkers; i++ {
///         wg.Add(1)
///         go func() {
///             defer wg.Done()
///             for job := range jobsChan {
///                 results <- process(job)
///             }
///         }()
///     }
///
///     // Send jobs
///     for _, job := range jobs {
///         jobsChan <- job
///     }
///     close(jobsChan)
///
///     // Wait and close results
///     go func() {
///         wg.Wait()
///         close(results)
///     }()
///
///     // Collect results
///     var output []Result
///     for r := range results {
///         output = append(output, r)
///     }
///     return output
/// }
///
/// func main() {
///     output := WorkerPool([]Job{1, 2, 3, 4, 5}, 3)
///     slices.Sort(output)
///     fmt.Println(output)
/// }
/// ```
pub fn worker_pool(out: &Out) {
    let mut output = run_worker_pool(&[1, 2, 3, 4, 5], 3);
    output.sort();
    outln!(out, "{}", go_slice(&output));
}

/// 7.2's `worker`, which the fragment leaves out: squares what comes in.
fn fan_worker(input: Receiver<i32>) -> Receiver<i32> {
    let (output_tx, output) = chan::<i32>(0);
    go!(move || {
        // The last Sender closes the channel when it drops: `defer close`.
        let output = output_tx;
        for v in &input {
            output.send(v * v).unwrap();
        }
    });
    output
}

// Fan-Out: Distribute work to multiple goroutines
fn fan_out(input: &Receiver<i32>, n: usize) -> Vec<Receiver<i32>> {
    let mut outputs = Vec::with_capacity(n);
    for _ in 0..n {
        outputs.push(fan_worker(input.clone()));
    }
    outputs
}

// Fan-In: Merge multiple channels into one
fn fan_in(channels: Vec<Receiver<i32>>) -> Receiver<i32> {
    let (merged_tx, merged) = chan::<i32>(0);
    let wg = WaitGroup::new();

    for ch in channels {
        let merged_tx = merged_tx.clone();
        wg.go(move || {
            for v in &ch {
                merged_tx.send(v).unwrap();
            }
        });
    }

    go!(move || {
        wg.wait();
        merged_tx.close();
    });

    merged
}

/// 7.2 "Fan-Out Fan-In": `fanOut` and `fanIn`, completed with the `worker`
/// they need (it squares) and a `main` that fans five numbers out to three
/// workers, merges their outputs and prints them sorted (they come in any
/// order):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "slices"
///     "sync"
/// )
///
/// func worker(input <-chan int) <-chan int {
///     output := make(chan int)
///     go func() {
///         defer close(output)
///         for v := range input {
///             output <- v * v
///         }
///     }()
///     return output
/// }
///
/// // Fan-Out: Distribute work to multiple goroutines
/// func fanOut(input <-chan int, n int) []<-chan int {
///     outputs := make([]<-chan int, n)
///     for i := 0; i < n; i++ {
///         outputs[i] = worker(input)
///     }
///     return outputs
/// }
///
/// // Fan-In: Merge multiple channels into one
/// func fanIn(channels ...<-chan int) <-chan int {
///     merged := make(chan int)
///     var wg sync.WaitGroup
///
///     for _, ch := range channels {
///         wg.Add(1)
///         go func(c <-chan int) {
///             defer wg.Done()
///             for v := range c {
///                 merged <- v
///             }
///         }(ch)
///     }
///
///     go func() {
///         wg.Wait()
///         close(merged)
///     }()
///
///     return merged
/// }
///
/// func main() {
///     input := make(chan int)
///     go func() {
///         defer close(input)
///         for i := 1; i <= 5; i++ {
///             input <- i
///         }
///     }()
///
///     var results []int
///     for v := range fanIn(fanOut(input, 3)...) {
///         results = append(results, v)
///     }
///     slices.Sort(results)
///     fmt.Println(results)
/// }
/// ```
pub fn fan_out_fan_in(out: &Out) {
    let (input_tx, input) = chan::<i32>(0);
    go!(move || {
        let input = input_tx; // closes the channel when it drops
        for i in 1..=5 {
            input.send(i).unwrap();
        }
    });

    let mut results: Vec<i32> = fan_in(fan_out(&input, 3)).into_iter().collect();
    results.sort();
    outln!(out, "{}", go_slice(&results));
}

/// Go's `RateLimiter`. Go's struct also keeps `interval`, which nothing
/// reads after construction; the twin leaves it out.
struct RateLimiter {
    tokens: Receiver<()>,
}

impl RateLimiter {
    fn new(rate: usize, interval: Duration) -> RateLimiter {
        let (refill, tokens) = chan::<()>(rate);

        // Fill initial tokens
        for _ in 0..rate {
            refill.send(()).unwrap();
        }

        // Refill periodically
        go!(move || {
            let ticker = Ticker::new(interval);
            for _ in ticker.chan() {
                select! {
                    send(refill, ()) -> _ => {},
                    default => {},
                }
            }
        });

        RateLimiter { tokens }
    }

    fn wait(&self) {
        self.tokens.recv().unwrap();
    }
}

/// 7.3 "Rate Limiter", completed with a `main` that makes four requests
/// through a limiter of two per second and prints in which tick each went
/// through: two at once from the initial tokens, then one per tick.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// type RateLimiter struct {
///     tokens   chan struct{}
///     interval time.Duration
/// }
///
/// func NewRateLimiter(rate int, interval time.Duration) *RateLimiter {
///     rl := &RateLimiter{
///         tokens:   make(chan struct{}, rate),
///         interval: interval,
///     }
///
///     // Fill initial tokens
///     for i := 0; i < rate; i++ {
///         rl.tokens <- struct{}{}
///     }
///
///     // Refill periodically
///     go func() {
///         ticker := time.NewTicker(interval)
///         for range ticker.C {
///             select {
///             case rl.tokens <- struct{}{}:
///             default:
///             }
///         }
///     }()
///
///     return rl
/// }
///
/// func (rl *RateLimiter) Wait() {
///     <-rl.tokens
/// }
///
/// func main() {
///     interval := time.Second
///     rl := NewRateLimiter(2, interval)
///     start := time.Now()
///     for i := 1; i <= 4; i++ {
///         rl.Wait()
///         fmt.Printf("request %d in tick %d\n", i, time.Since(start).Round(interval)/interval)
///     }
/// }
/// ```
pub fn rate_limiter(out: &Out) {
    let interval = secs(1);
    let rl = RateLimiter::new(2, interval);
    let start = Instant::now();
    for i in 1..=4 {
        rl.wait();
        let tick = (start.elapsed() + interval / 2).as_nanos() / interval.as_nanos();
        outln!(out, "request {i} in tick {tick}");
    }
}

/// 8.1 "Always Use Context for Cancellation", its good half (`longTask` is
/// 6.2's `doWork`: [`work_until_done`]), completed with a `main` that gives
/// it half a second (the bad half loops
/// forever: see the module doc). As in 6.2 the loop spins without
/// blocking, so the deadline must fire all the same.
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "time"
/// )
///
/// // ✅ Good
/// func longTask(ctx context.Context) error {
///     for {
///         select {
///         case <-ctx.Done():
///             return ctx.Err()
///         default:
///             // Work
///         }
///     }
/// }
///
/// func main() {
///     ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
///     defer cancel()
///     fmt.Println("longTask:", longTask(ctx))
/// }
/// ```
pub fn context_cancellation(out: &Out) {
    let (ctx, _cancel) = context::with_timeout(&context::background(), millis(500));
    outln!(out, "longTask: {}", go_err(work_until_done(&ctx).err()));
}

/// 8.2 "Sender Closes Channels", completed: each half in a function with
/// its own `ch`, and a `main` calling both. The bad half's main receives
/// once more, which only the receiver's close can end.
///
/// ```go
/// package main
///
/// import "fmt"
///
/// // ❌ Bad: Receiver closes
/// func bad(data string) {
///     ch := make(chan string)
///     go func() {
///         <-ch
///         close(ch) // Wrong!
///     }()
///     ch <- data
///     _, ok := <-ch
///     fmt.Println("bad: closed by the receiver:", !ok)
/// }
///
/// // ✅ Good: Sender closes
/// func good(data string) {
///     ch := make(chan string)
///     go func() {
///         defer close(ch)
///         ch <- data
///     }()
///     for v := range ch {
///         fmt.Println("good:", v)
///     }
/// }
///
/// func main() {
///     bad("data")
///     good("data")
/// }
/// ```
pub fn sender_closes(out: &Out) {
    bad(out, "data");
    good(out, "data");
}

// ❌ Bad: Receiver closes
fn bad(out: &Out, data: &'static str) {
    let (tx, ch) = chan::<&str>(0);
    let rx = ch.clone();
    go!(move || {
        rx.recv().unwrap();
        rx.close(); // Wrong!
    });
    tx.send(data).unwrap();
    let ok = ch.recv().is_ok();
    outln!(out, "bad: closed by the receiver: {}", !ok);
}

// ✅ Good: Sender closes
fn good(out: &Out, data: &'static str) {
    let (tx, ch) = chan::<&str>(0);
    go!(move || {
        // The last Sender closes the channel when it drops, even if the
        // goroutine panics: Go's `defer close(ch)`.
        let ch = tx;
        ch.send(data).unwrap();
    });
    for v in &ch {
        outln!(out, "good: {v}");
    }
}

fn work() -> Result<(), String> {
    Err("work failed".to_string())
}

/// 8.3 "Handle Errors from Goroutines", its error-channel half, completed
/// with a `work` that fails and a `main` that reports the error:
///
/// ```go
/// package main
///
/// import (
///     "errors"
///     "fmt"
/// )
///
/// func work() error {
///     return errors.New("work failed")
/// }
///
/// func main() {
///     // ✅ Use error channels
///     errCh := make(chan error, 1)
///     go func() {
///         if err := work(); err != nil {
///             errCh <- err
///         }
///     }()
///
///     fmt.Println("error:", <-errCh)
/// }
/// ```
pub fn error_channel(out: &Out) {
    // ✅ Use error channels
    let (err_tx, err_ch) = chan::<String>(1);
    go!(move || {
        if let Err(err) = work() {
            err_tx.send(err).unwrap();
        }
    });

    outln!(out, "error: {}", err_ch.recv().unwrap());
}

/// 8.3 "Handle Errors from Goroutines", its errgroup half, completed with
/// the same `work` and a `main` that sends `log`'s output where the twins
/// print, without a timestamp. `log.Fatal` then prints the error and exits
/// with status 1; the twin prints it and returns, which ends its output
/// the same way (a twin cannot end the process).
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "errors"
///     "log"
///     "os"
///
///     "golang.org/x/sync/errgroup"
/// )
///
/// func work() error {
///     return errors.New("work failed")
/// }
///
/// func main() {
///     log.SetFlags(0)
///     log.SetOutput(os.Stdout)
///     ctx := context.Background()
///
///     // Or use errgroup
///     g, ctx := errgroup.WithContext(ctx)
///     g.Go(func() error {
///         return work()
///     })
///     if err := g.Wait(); err != nil {
///         log.Fatal(err)
///     }
/// }
/// ```
pub fn errgroup_errors(out: &Out) {
    let ctx = context::background();

    // Or use errgroup
    let (g, _ctx) = errgroup::with_context(&ctx);
    g.go(work);
    if let Err(err) = g.wait() {
        outln!(out, "{err}"); // log.Fatal
    }
}

/// 9.1 "Goroutine Leak", its leaking half, completed with a `main` that
/// shows the stuck goroutine in the goroutine count. Go rejects the unused
/// `val`, hence the `Println`.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "runtime"
/// )
///
/// func main() {
///     // ❌ Goroutine stuck forever
///     ch := make(chan int)
///     go func() {
///         val := <-ch // Never receives!
///         fmt.Println(val)
///     }()
///     // ch never gets a value
///
///     fmt.Println("goroutines:", runtime.NumGoroutine())
/// }
/// ```
pub fn goroutine_leak(out: &Out) {
    // ❌ Goroutine stuck forever
    // (main keeps the Sender, so the channel stays open while main runs)
    let (_tx, ch) = chan::<i32>(0);
    let o = out.clone();
    go!(move || {
        // Never receives! (Err only after main returns and drops `_tx`.)
        if let Ok(val) = ch.recv() {
            outln!(o, "{val}");
        }
    });
    // ch never gets a value

    outln!(out, "goroutines: {}", goro::num_goroutine());
}

fn process_value(out: &Out, val: i32) {
    outln!(out, "processed {val}");
}

/// 9.1 "Goroutine Leak", its context half, completed with the channel that
/// never gets a value, a `process` that prints, and a `main` that cancels
/// the context and shows the goroutine gone from the count a second later
/// (where the leaking half's goroutine stays).
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "runtime"
///     "time"
/// )
///
/// func process(val int) {
///     fmt.Println("processed", val)
/// }
///
/// func main() {
///     ctx, cancel := context.WithCancel(context.Background())
///     ch := make(chan int) // never gets a value
///
///     // ✅ Use context for cleanup
///     go func(ctx context.Context) {
///         select {
///         case val := <-ch:
///             process(val)
///         case <-ctx.Done():
///             return
///         }
///     }(ctx)
///
///     fmt.Println("goroutines:", runtime.NumGoroutine())
///     cancel()
///     time.Sleep(time.Second)
///     fmt.Println("goroutines after cancel:", runtime.NumGoroutine())
/// }
/// ```
pub fn goroutine_leak_context(out: &Out) {
    let (ctx, cancel) = context::with_cancel(&context::background());
    // main keeps the Sender, so the channel stays open while main runs
    let (_tx, ch) = chan::<i32>(0); // never gets a value

    // ✅ Use context for cleanup
    let o = out.clone();
    go!(move || {
        select! {
            recv(ch) -> val => process_value(&o, val.unwrap()),
            recv(ctx.done()) -> _ => {}
        }
    });

    outln!(out, "goroutines: {}", goro::num_goroutine());
    cancel.cancel();
    sleep(secs(1));
    outln!(out, "goroutines after cancel: {}", goro::num_goroutine());
}

/// 9.2 "Race Condition", its fixed half, completed with a `main` that
/// waits for the goroutines on a channel and prints the count:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync/atomic"
/// )
///
/// func main() {
///     // ✅ Use atomic or mutex
///     var counter atomic.Int64
///     done := make(chan bool)
///     for i := 0; i < 1000; i++ {
///         go func() {
///             counter.Add(1)
///             done <- true
///         }()
///     }
///     for i := 0; i < 1000; i++ {
///         <-done
///     }
///     fmt.Println(counter.Load()) // 1000
/// }
/// ```
pub fn race_condition_fixed(out: &Out) {
    // ✅ Use atomic or mutex
    let counter = Arc::new(AtomicI64::new(0));
    let (done_tx, done) = chan::<bool>(0);
    for _ in 0..1000 {
        let counter = counter.clone();
        let done_tx = done_tx.clone();
        go!(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            done_tx.send(true).unwrap();
        });
    }
    for _ in 0..1000 {
        done.recv().unwrap();
    }
    outln!(out, "{}", counter.load(Ordering::SeqCst)); // 1000
}

/// 9.3's `Config`. Go's `mu` and the `data` it guards are one `Mutex` in
/// Rust, which owns its data.
struct Config {
    data: Mutex<String>,
}

impl Config {
    // ✅ Use pointer receiver
    fn get(&self) -> String {
        self.data.lock().clone()
    }
}

/// 9.3 "Mutex Copying", its good half (the bad half cannot be written in
/// Rust: see the module doc), completed with the `Config` type and a
/// `main` where three goroutines read it:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
/// )
///
/// type Config struct {
///     mu   sync.Mutex
///     data string
/// }
///
/// // ✅ Use pointer receiver
/// func (c *Config) Get() string {
///     c.mu.Lock()
///     defer c.mu.Unlock()
///     return c.data
/// }
///
/// func main() {
///     c := &Config{data: "debug=false"}
///     var wg sync.WaitGroup
///     for i := 0; i < 3; i++ {
///         wg.Add(1)
///         go func() {
///             defer wg.Done()
///             fmt.Println(c.Get())
///         }()
///     }
///     wg.Wait()
/// }
/// ```
pub fn mutex_copying(out: &Out) {
    let c = Arc::new(Config {
        data: Mutex::new("debug=false".to_string()),
    });
    let wg = WaitGroup::new();
    for _ in 0..3 {
        let (c, o) = (c.clone(), out.clone());
        wg.go(move || {
            outln!(o, "{}", c.get());
        });
    }
    wg.wait();
}
