//! Twins of the Go programs in seed `004_c778b4b91ec65a56.txt` ("Concurrency
//! in Go", a guide from goroutines to patterns and pitfalls). Most of its Go
//! is fragments; each twin's doc comment shows the smallest complete Go
//! program the fragment was completed into. In the document's order.
//!
//! Not twinned yet (they need `sync`, `context` or `errgroup`, which goro
//! does not have yet): 2.3 (`context.WithCancel`), 5.1 (`sync.WaitGroup`),
//! 5.2 (`sync.RWMutex`), both 5.3 programs with `main` (`sync.WaitGroup`),
//! 6.1 and 6.2 (`context`), 7.1 and 7.2 (`sync.WaitGroup`), 8.1
//! (`context`), the errgroup half of 8.3, the context half of 9.1 and 9.3
//! (`sync.Mutex`). 10.2 holds only comments. The "❌" half of 9.2 is a data
//! race on a plain `int`: safe Rust rejects it at compile time (a `'static`
//! goroutine cannot borrow the caller's counter mutably), so it has no twin.

use crate::harness::{secs, Out, Twin};
use goro::time::{after, sleep, Ticker};
use goro::{chan, go, select, Receiver, RecvError, Sender};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    basic_goroutine,
    passing_parameters,
    channel_types,
    buffered_vs_unbuffered,
    channel_example,
    closing_channels,
    select_statement,
    non_blocking,
    atomic_counter,
    rate_limiter,
    sender_closes,
    error_channel,
    goroutine_leak,
    race_condition_fixed,
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
/// with a `work` that fails and a `main` that reports the error (the
/// errgroup half waits for `goro::errgroup`):
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

/// 9.1 "Goroutine Leak", its leaking half, completed with a `main` that
/// shows the stuck goroutine in the goroutine count (the context half
/// waits for `goro::context`). Go rejects the unused `val`, hence the
/// `Println`.
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
