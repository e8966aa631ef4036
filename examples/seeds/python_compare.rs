//! Twins of the Go programs in seed `000_cb9d01cff40ae3c9.txt` ("Concurrency":
//! Python's threading, queue and asyncio next to Go's goroutines, channels
//! and `select`). One function per Go tab, in the document's order.

use crate::harness::{go_slice, secs, Out, Twin};
use goro::context;
use goro::sync::{Mutex, WaitGroup};
use goro::time::{after, sleep};
use goro::{chan, go, select, Sender};
use std::sync::Arc;

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    threading_thread,
    queue_queue,
    threading_lock,
    asyncio_gather,
    thread_pool_executor,
    select_first_ready,
    buffered_vs_unbuffered,
    avoid_goroutine_leaks,
];

fn worker(out: Out, name: &str) {
    outln!(out, "Hello from {name}");
}

/// Section "threading.Thread", completed with `main`:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func worker(name string) {
///     fmt.Printf("Hello from %s\n", name)
/// }
///
/// func main() {
///     go worker("goroutine-1")
///     time.Sleep(time.Second) // simple wait (not production-ready)
/// }
/// ```
pub fn threading_thread(out: &Out) {
    go!(worker(out.clone(), "goroutine-1"));
    sleep(secs(1)); // simple wait (not production-ready)
}

/// Section "queue.Queue", completed with `main`:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int)
///
///     // Producer
///     go func() {
///         for i := range 3 {
///             ch <- i
///         }
///         close(ch)
///     }()
///
///     // Consumer
///     for item := range ch {
///         fmt.Printf("Got: %d\n", item)
///     }
/// }
/// ```
pub fn queue_queue(out: &Out) {
    let (tx, ch) = chan::<i32>(0);

    // Producer
    go!(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        tx.close();
    });

    // Consumer
    for item in &ch {
        outln!(out, "Got: {item}");
    }
}

/// Go's `mu` and the `counter` it guards: in Rust the mutex owns the data
/// it guards, so the two package variables are one `Mutex<i32>`, shared by
/// the goroutines through an `Arc` (a `static` would outlive one run of
/// the program).
type Counter = Arc<Mutex<i32>>;

fn increment(counter: &Counter) {
    let mut counter = counter.lock();
    *counter += 1;
}

/// Section "threading.Lock", completed with a `main` where a thousand
/// goroutines call `increment` and main prints the count once all are done:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
/// )
///
/// var (
///     mu      sync.Mutex
///     counter int
/// )
///
/// func increment() {
///     mu.Lock()
///     counter++
///     mu.Unlock()
/// }
///
/// func main() {
///     var wg sync.WaitGroup
///     for range 1000 {
///         wg.Add(1)
///         go func() {
///             defer wg.Done()
///             increment()
///         }()
///     }
///     wg.Wait()
///     fmt.Println(counter) // 1000
/// }
/// ```
pub fn threading_lock(out: &Out) {
    let counter = Counter::default();
    let wg = WaitGroup::new();
    for _ in 0..1000 {
        let counter = counter.clone();
        wg.go(move || increment(&counter));
    }
    wg.wait();
    outln!(out, "{}", *counter.lock()); // 1000
}

fn fetch(url: &str, ch: Sender<String>) {
    sleep(secs(1));
    ch.send(format!("data from {url}")).unwrap();
}

/// Section "asyncio" (a complete program in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func fetch(url string, ch chan<- string) {
///     time.Sleep(1 * time.Second)
///     ch <- fmt.Sprintf("data from %s", url)
/// }
///
/// func main() {
///     ch := make(chan string, 2)
///     go fetch("url1", ch)
///     go fetch("url2", ch)
///
///     for range 2 {
///         fmt.Println(<-ch)
///     }
/// }
/// ```
pub fn asyncio_gather(out: &Out) {
    let (tx, ch) = chan::<String>(2);
    go!(fetch("url1", tx.clone()));
    go!(fetch("url2", tx));

    for _ in 0..2 {
        outln!(out, "{}", ch.recv().unwrap());
    }
}

/// Section "ThreadPoolExecutor", completed with `main` and a print of the
/// results. Each goroutine writes its own slot of `results`; safe Rust
/// cannot hand out disjoint `&mut` slots to `'static` goroutines, so the
/// slice sits behind a `Mutex`.
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
///     items := []int{1, 2, 3, 4}
///     results := make([]int, len(items))
///
///     for i, item := range items {
///         wg.Add(1)
///         go func() {
///             defer wg.Done()
///             results[i] = item * 2
///         }()
///     }
///     wg.Wait()
///     fmt.Println(results) // [2 4 6 8]
/// }
/// ```
pub fn thread_pool_executor(out: &Out) {
    let wg = WaitGroup::new();
    let items = [1, 2, 3, 4];
    let results = Arc::new(Mutex::new(vec![0; items.len()]));

    for (i, item) in items.into_iter().enumerate() {
        let results = results.clone();
        wg.go(move || {
            results.lock()[i] = item * 2;
        });
    }
    wg.wait();
    outln!(out, "{}", go_slice(&results.lock())); // [2 4 6 8]
}

/// Section "select (Go-specific)", completed with `main`:
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
///     ch1 := make(chan string)
///     ch2 := make(chan string)
///
///     go func() { time.Sleep(1 * time.Second); ch1 <- "one" }()
///     go func() { time.Sleep(2 * time.Second); ch2 <- "two" }()
///
///     select {
///     case msg := <-ch1:
///         fmt.Println("Received from ch1:", msg)
///     case msg := <-ch2:
///         fmt.Println("Received from ch2:", msg)
///     case <-time.After(3 * time.Second):
///         fmt.Println("Timeout")
///     }
/// }
/// ```
pub fn select_first_ready(out: &Out) {
    let (tx1, ch1) = chan::<&str>(0);
    let (tx2, ch2) = chan::<&str>(0);

    // Go's sends that nobody receives block forever; goro's fail once
    // main has returned and dropped the receiver, hence `let _`.
    go!(move || {
        sleep(secs(1));
        let _ = tx1.send("one");
    });
    go!(move || {
        sleep(secs(2));
        let _ = tx2.send("two");
    });

    select! {
        recv(ch1) -> msg => outln!(out, "Received from ch1: {}", msg.unwrap()),
        recv(ch2) -> msg => outln!(out, "Received from ch2: {}", msg.unwrap()),
        recv(after(secs(3))) -> _ => outln!(out, "Timeout"),
    }
}

/// Section "Buffered vs Unbuffered Channel (Go-specific)", completed with
/// `main` (and `_ = unbuf`, without which Go rejects the unused variable):
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     unbuf := make(chan int)  // unbuffered: send blocks until received
///     buf := make(chan int, 5) // buffered: can queue up to 5 values
///     _ = unbuf
///
///     // send does not block until the buffer is full
///     buf <- 1
///     buf <- 2
///     fmt.Println(<-buf) // 1
/// }
/// ```
pub fn buffered_vs_unbuffered(out: &Out) {
    let _unbuf = chan::<i32>(0); // unbuffered: send blocks until received
    let (buf_tx, buf) = chan::<i32>(5); // buffered: can queue up to 5 values

    // send does not block until the buffer is full
    buf_tx.send(1).unwrap();
    buf_tx.send(2).unwrap();
    outln!(out, "{}", buf.recv().unwrap()); // 1
}

/// The "Avoid goroutine leaks" warning's program, completed with `main`
/// and a channel that never receives data (the case the warning is about):
/// the context's timeout ends the wait after 5 seconds.
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
///     ch := make(chan string) // never receives data
///
///     ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
///     defer cancel()
///
///     select {
///     case result := <-ch:
///         fmt.Println(result)
///     case <-ctx.Done():
///         fmt.Println("Cancelled")
///     }
/// }
/// ```
pub fn avoid_goroutine_leaks(out: &Out) {
    // The sender stays alive (bound to a name) so that `ch` is not closed.
    let (_tx, ch) = chan::<String>(0); // never receives data

    let (ctx, _cancel) = context::with_timeout(&context::background(), secs(5));

    select! {
        recv(ch) -> result => outln!(out, "{}", result.unwrap()),
        recv(ctx.done()) -> _ => outln!(out, "Cancelled"),
    }
}
