//! Twins of the Go programs in seed `003_591fdcb34030b6f1.txt` ("Concurrency
//! in Go: Goroutines, Channels, and Patterns"). One function per Go program,
//! in the document's order.

use crate::harness::{secs, Out, Twin};
use goro::context::{self, Context};
use goro::sync::WaitGroup;
use goro::time::{after, sleep};
use goro::{chan, go, select, Receiver, Sender};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    goroutines,
    channels,
    buffered_channels,
    closing_channels,
    select_statement,
    fan_out_fan_in,
    worker_pool,
    context_aware_pool,
    timeout_with_select,
    wait_group,
];

fn say_hello(out: Out) {
    outln!(out, "Hello from goroutine!");
}

/// Section "Goroutines" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func sayHello() {
///     fmt.Println("Hello from goroutine!")
/// }
///
/// func main() {
///     go sayHello() // runs concurrently
///     time.Sleep(time.Second)
///     fmt.Println("Main finished.")
/// }
/// ```
pub fn goroutines(out: &Out) {
    go!(say_hello(out.clone())); // runs concurrently
    sleep(secs(1));
    outln!(out, "Main finished.");
}

/// Section "Channels", completed with `main`:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan string)
///
///     go func() {
///         ch <- "ping"
///     }()
///
///     msg := <-ch
///     fmt.Println(msg) // prints: ping
/// }
/// ```
pub fn channels(out: &Out) {
    let (tx, ch) = chan::<&str>(0);

    go!(move || {
        tx.send("ping").unwrap();
    });

    let msg = ch.recv().unwrap();
    outln!(out, "{msg}"); // prints: ping
}

/// Section "Buffered Channels", completed with `main`:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int, 2)
///
///     ch <- 1
///     ch <- 2
///     fmt.Println(<-ch)
///     fmt.Println(<-ch)
/// }
/// ```
pub fn buffered_channels(out: &Out) {
    let (tx, ch) = chan::<i32>(2);

    tx.send(1).unwrap();
    tx.send(2).unwrap();
    outln!(out, "{}", ch.recv().unwrap());
    outln!(out, "{}", ch.recv().unwrap());
}

/// Section "Closing Channels", completed with `main`:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int)
///     go func() {
///         for i := 0; i < 3; i++ {
///             ch <- i
///         }
///         close(ch)
///     }()
///
///     for val := range ch {
///         fmt.Println(val)
///     }
/// }
/// ```
pub fn closing_channels(out: &Out) {
    let (tx, ch) = chan::<i32>(0);
    go!(move || {
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        tx.close();
    });

    for val in &ch {
        outln!(out, "{val}");
    }
}

/// Section "Select Statement", completed with `main`:
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
///     go func() {
///         time.Sleep(1 * time.Second)
///         ch1 <- "one"
///     }()
///
///     go func() {
///         time.Sleep(2 * time.Second)
///         ch2 <- "two"
///     }()
///
///     select {
///     case msg1 := <-ch1:
///         fmt.Println("Received", msg1)
///     case msg2 := <-ch2:
///         fmt.Println("Received", msg2)
///     }
/// }
/// ```
pub fn select_statement(out: &Out) {
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
        recv(ch1) -> msg1 => outln!(out, "Received {}", msg1.unwrap()),
        recv(ch2) -> msg2 => outln!(out, "Received {}", msg2.unwrap()),
    }
}

fn worker(out: Out, id: i32, jobs: Receiver<i32>, results: Sender<i32>) {
    for j in &jobs {
        outln!(out, "Worker {id} processing job {j}");
        sleep(secs(1));
        results.send(j * 2).unwrap();
    }
}

/// "Concurrency Patterns: 1. Fan-Out / Fan-In": the seed's `worker` and
/// `main` snippets put together:
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func worker(id int, jobs <-chan int, results chan<- int) {
///
///     for j := range jobs {
///         fmt.Printf("Worker %d processing job %d\n", id, j)
///         time.Sleep(time.Second)
///         results <- j * 2
///     }
/// }
///
/// func main() {
///     jobs := make(chan int, 5)
///     results := make(chan int, 5)
///
///     for w := 1; w <= 3; w++ {
///         go worker(w, jobs, results)
///     }
///
///     for j := 1; j <= 5; j++ {
///         jobs <- j
///     }
///     close(jobs)
///
///     for a := 1; a <= 5; a++ {
///         fmt.Println("Result:", <-results)
///     }
/// }
/// ```
pub fn fan_out_fan_in(out: &Out) {
    let (jobs_tx, jobs) = chan::<i32>(5);
    let (results_tx, results) = chan::<i32>(5);

    for w in 1..=3 {
        go!(worker(out.clone(), w, jobs.clone(), results_tx.clone()));
    }

    for j in 1..=5 {
        jobs_tx.send(j).unwrap();
    }
    jobs_tx.close();

    for _ in 1..=5 {
        outln!(out, "Result: {}", results.recv().unwrap());
    }
}

fn pool_worker(out: Out, id: i32, jobs: Receiver<i32>, results: Sender<i32>, wg: WaitGroup) {
    for j in &jobs {
        outln!(out, "Worker {id} started job {j}");
        sleep(secs(1)); // simulate work
        outln!(out, "Worker {id} finished job {j}");
        results.send(j * 2).unwrap();
    }
    wg.done();
}

/// "Concurrency Patterns: 2. Worker Pool" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
///     "time"
/// )
///
/// func worker(id int, jobs <-chan int, results chan<- int, wg *sync.WaitGroup) {
///     defer wg.Done()
///     for j := range jobs {
///         fmt.Printf("Worker %d started job %d\n", id, j)
///         time.Sleep(time.Second) // simulate work
///         fmt.Printf("Worker %d finished job %d\n", id, j)
///         results <- j * 2
///     }
/// }
///
/// func main() {
///     const numJobs = 5
///     const numWorkers = 3
///
///     jobs := make(chan int, numJobs)
///     results := make(chan int, numJobs)
///     var wg sync.WaitGroup
///
///     // start workers
///     for w := 1; w <= numWorkers; w++ {
///         wg.Add(1)
///         go worker(w, jobs, results, &wg)
///     }
///
///     // send jobs
///     for j := 1; j <= numJobs; j++ {
///         jobs <- j
///     }
///     close(jobs)
///
///     // wait for workers to finish
///     go func() {
///         wg.Wait()
///         close(results)
///     }()
///
///     // collect results
///     for r := range results {
///         fmt.Println("Result:", r)
///     }
/// }
/// ```
pub fn worker_pool(out: &Out) {
    run_pool(out, |w, jobs, results, wg| {
        go!(pool_worker(out.clone(), w, jobs, results, wg));
    });
}

/// The seed's pool `main`, which both pool twins run: starts the workers
/// with `start_worker(id, jobs, results, wg)` (counted in `wg`), sends the
/// jobs, closes the results once every worker is done and prints them.
fn run_pool(out: &Out, start_worker: impl Fn(i32, Receiver<i32>, Sender<i32>, WaitGroup)) {
    const NUM_JOBS: usize = 5;
    const NUM_WORKERS: i32 = 3;

    let (jobs_tx, jobs) = chan::<i32>(NUM_JOBS);
    let (results_tx, results) = chan::<i32>(NUM_JOBS);
    let wg = WaitGroup::new();

    // start workers
    for w in 1..=NUM_WORKERS {
        wg.add(1);
        start_worker(w, jobs.clone(), results_tx.clone(), wg.clone());
    }

    // send jobs
    for j in 1..=NUM_JOBS as i32 {
        jobs_tx.send(j).unwrap();
    }
    jobs_tx.close();

    // wait for workers to finish
    go!(move || {
        wg.wait();
        results_tx.close();
    });

    // collect results
    for r in &results {
        outln!(out, "Result: {r}");
    }
}

fn context_worker(
    ctx: Context,
    out: Out,
    id: i32,
    jobs: Receiver<i32>,
    results: Sender<i32>,
    wg: WaitGroup,
) {
    for j in &jobs {
        select! {
            recv(after(secs(3))) -> _ => results.send(j * 2).unwrap(), // simulate work
            recv(ctx.done()) -> _ => {
                outln!(out, "Worker {id} cancelled job {j}: {}", ctx.err().unwrap());
                break;
            }
        }
    }
    wg.done();
}

/// "Variations in Production: Context-Aware Pools", whose fragment creates
/// the timeout context, completed into the pool above with workers that
/// give up their job when the context is done. Each job takes 3 seconds,
/// so the first three finish and the 5-second timeout cancels jobs 4 and 5
/// halfway through. Its `main` after the context is the pool's
/// (`run_pool`).
///
/// ```go
/// package main
///
/// import (
///     "context"
///     "fmt"
///     "sync"
///     "time"
/// )
///
/// func worker(ctx context.Context, id int, jobs <-chan int, results chan<- int, wg *sync.WaitGroup) {
///     defer wg.Done()
///     for j := range jobs {
///         select {
///         case <-time.After(3 * time.Second): // simulate work
///             results <- j * 2
///         case <-ctx.Done():
///             fmt.Printf("Worker %d cancelled job %d: %v\n", id, j, ctx.Err())
///             return
///         }
///     }
/// }
///
/// func main() {
///     const numJobs = 5
///     const numWorkers = 3
///
///     ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
///     defer cancel()
///
///     jobs := make(chan int, numJobs)
///     results := make(chan int, numJobs)
///     var wg sync.WaitGroup
///
///     for w := 1; w <= numWorkers; w++ {
///         wg.Add(1)
///         go worker(ctx, w, jobs, results, &wg)
///     }
///
///     for j := 1; j <= numJobs; j++ {
///         jobs <- j
///     }
///     close(jobs)
///
///     go func() {
///         wg.Wait()
///         close(results)
///     }()
///
///     for r := range results {
///         fmt.Println("Result:", r)
///     }
/// }
/// ```
pub fn context_aware_pool(out: &Out) {
    let (ctx, _cancel) = context::with_timeout(&context::background(), secs(5));
    run_pool(out, |w, jobs, results, wg| {
        go!(context_worker(
            ctx.clone(),
            out.clone(),
            w,
            jobs,
            results,
            wg
        ));
    });
}

/// "Concurrency Patterns: 3. Timeout with select", completed with `main`:
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
///     c := make(chan string)
///
///     go func() {
///         time.Sleep(2 * time.Second)
///         c <- "done"
///     }()
///
///     select {
///     case res := <-c:
///         fmt.Println(res)
///     case <-time.After(1 * time.Second):
///         fmt.Println("timeout")
///     }
/// }
/// ```
pub fn timeout_with_select(out: &Out) {
    let (tx, c) = chan::<&str>(0);

    // Go's send that nobody receives blocks forever; goro's fails once
    // main has returned and dropped the receiver, hence `let _`.
    go!(move || {
        sleep(secs(2));
        let _ = tx.send("done");
    });

    select! {
        recv(c) -> res => outln!(out, "{}", res.unwrap()),
        recv(after(secs(1))) -> _ => outln!(out, "timeout"),
    }
}

/// Section "sync.WaitGroup", completed with `main`:
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
///         wg.Add(1)
///         go func(id int) {
///             defer wg.Done()
///             fmt.Printf("Worker %d done\n", id)
///         }(i)
///     }
///
///     wg.Wait()
///     fmt.Println("All workers finished.")
/// }
/// ```
pub fn wait_group(out: &Out) {
    let wg = WaitGroup::new();

    for i in 0..3 {
        let o = out.clone();
        wg.go(move || {
            outln!(o, "Worker {i} done");
        });
    }

    wg.wait();
    outln!(out, "All workers finished.");
}
