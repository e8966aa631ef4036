//! Twins of the Go programs in seed `000_cb9d01cff40ae3c9.txt` ("Concurrency":
//! Python's threading, queue and asyncio next to Go's goroutines, channels
//! and `select`). One function per Go tab, in the document's order.
//!
//! Not twinned yet (they need `sync` or `context`, which goro does not have
//! yet): "threading.Lock" (`sync.Mutex`), "ThreadPoolExecutor"
//! (`sync.WaitGroup`) and the "Avoid goroutine leaks" warning
//! (`context.WithTimeout`).

use crate::harness::{secs, Out, Twin};
use goro::time::{after, sleep};
use goro::{chan, go, select, Sender};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    threading_thread,
    queue_queue,
    asyncio_gather,
    select_first_ready,
    buffered_vs_unbuffered,
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
