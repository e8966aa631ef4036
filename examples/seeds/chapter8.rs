//! Twins of the Go programs in seed `001_67188d7919ce9432.txt` ("Chapter 8:
//! Concurrency and Parallelism"): goroutines, channels (unbuffered,
//! buffered, directional) and a worker pool. One function per Go program,
//! in the document's order.
//!
//! The seed's 8.3 programs import `time` without using it in the first one,
//! which Go rejects; its twin's Go program leaves that import out.

use crate::harness::{micros, millis, racy_increment, rand_intn, secs, Out, Twin};
use goro::sync::{Mutex, WaitGroup};
use goro::time::sleep;
use goro::{chan, go, Receiver, Sender};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    launching_goroutines,
    concurrent_execution,
    channel_communication,
    unbuffered_channel,
    buffered_channel,
    channel_directionality,
    worker_pool,
    race_condition,
    mutex_counter,
    wait_group,
];

fn print_number(out: Out, n: i32) {
    for i in 0..5 {
        outln!(out, "Goroutine: {n} Count: {i}");
        sleep(millis(100)); // Simulate work
    }
}

/// 8.1 "Creating and Launching Goroutines" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func printNumber(n int) {
///     for i := 0; i < 5; i++ {
///         fmt.Println("Goroutine:", n, "Count:", i)
///         time.Sleep(100 * time.Millisecond) // Simulate work
///     }
/// }
///
/// func main() {
///     go printNumber(1) // Launch printNumber as a goroutine
///     go printNumber(2) // Launch another printNumber as a goroutine
///
///     // Sleep to allow goroutines to execute, otherwise the program may end before the goroutines are executed
///     time.Sleep(1 * time.Second)
///
///     fmt.Println("Program finished.")
/// }
/// ```
pub fn launching_goroutines(out: &Out) {
    go!(print_number(out.clone(), 1)); // Launch print_number as a goroutine
    go!(print_number(out.clone(), 2)); // Launch another print_number as a goroutine

    // Sleep to allow goroutines to execute, otherwise the program may end
    // before the goroutines are executed
    sleep(secs(1));

    outln!(out, "Program finished.");
}

fn print_number_randomly(out: Out, n: i32) {
    for i in 0..5 {
        outln!(out, "Goroutine: {n} Count: {i}");
        sleep(millis(rand_intn(300))); // Simulate different work duration
    }
}

/// 8.1 "Understanding Concurrent Execution" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "math/rand"
///     "time"
/// )
///
/// func printNumber(n int) {
///     for i := 0; i < 5; i++ {
///         fmt.Println("Goroutine:", n, "Count:", i)
///         time.Sleep(time.Duration(rand.Intn(300)) * time.Millisecond) // Simulate different work duration
///     }
/// }
///
/// func main() {
///     go printNumber(1)
///     go printNumber(2)
///     go printNumber(3)
///
///     time.Sleep(2 * time.Second)
///     fmt.Println("Program finished.")
/// }
/// ```
pub fn concurrent_execution(out: &Out) {
    go!(print_number_randomly(out.clone(), 1));
    go!(print_number_randomly(out.clone(), 2));
    go!(print_number_randomly(out.clone(), 3));

    sleep(secs(2));
    outln!(out, "Program finished.");
}

fn send_hello(c: Sender<&str>) {
    sleep(secs(1)); // simulate some work
    c.send("Hello from goroutine").unwrap();
}

/// 8.2 "Creating and Using Channels for Communication" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func sendData(c chan string) {
///     time.Sleep(1 * time.Second) // simulate some work
///     c <- "Hello from goroutine"
/// }
///
/// func main() {
///     c := make(chan string) // create a channel that sends strings
///     go sendData(c)
///
///     msg := <-c // receive value from channel
///
///     fmt.Println("Message received:", msg) // Output: Message received: Hello from goroutine
/// }
/// ```
pub fn channel_communication(out: &Out) {
    let (tx, c) = chan::<&str>(0); // create a channel that sends strings
    go!(send_hello(tx));

    let msg = c.recv().unwrap(); // receive value from channel

    outln!(out, "Message received: {msg}"); // Output: Message received: Hello from goroutine
}

fn send_slowly(out: Out, c: Sender<&str>) {
    sleep(secs(1));
    c.send("First message").unwrap(); // will block until a receiver is ready
    outln!(out, "First message sent");
    sleep(secs(1));
    c.send("Second message").unwrap(); // will block until a receiver is ready
    outln!(out, "Second message sent");
}

/// 8.2 "Unbuffered Channels" (complete in the seed). The two lines after
/// each hand-over may come in either order, and "Second message sent" may
/// not come at all: main can return first.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func sendData(c chan string) {
///     time.Sleep(1 * time.Second)
///     c <- "First message" // will block until a receiver is ready
///     fmt.Println("First message sent")
///     time.Sleep(1 * time.Second)
///     c <- "Second message" // will block until a receiver is ready
///     fmt.Println("Second message sent")
/// }
///
/// func main() {
///     c := make(chan string)
///     go sendData(c)
///     time.Sleep(500 * time.Millisecond)
///     msg := <-c // this will receive first message, then proceed with the second one.
///     fmt.Println("Message received:", msg) // Output: Message received: First message
///     msg = <-c
///     fmt.Println("Message received:", msg) // Output: Message received: Second message
/// }
/// ```
pub fn unbuffered_channel(out: &Out) {
    let (tx, c) = chan::<&str>(0);
    go!(send_slowly(out.clone(), tx));
    sleep(millis(500));
    let msg = c.recv().unwrap(); // this will receive first message, then proceed with the second one.
    outln!(out, "Message received: {msg}"); // Output: Message received: First message
    let msg = c.recv().unwrap();
    outln!(out, "Message received: {msg}"); // Output: Message received: Second message
}

fn send_both(out: Out, c: Sender<&str>) {
    c.send("First message").unwrap();
    outln!(out, "First message sent");
    c.send("Second message").unwrap();
    outln!(out, "Second message sent");
}

/// 8.2 "Buffered Channels" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func sendData(c chan string) {
///     c <- "First message"
///     fmt.Println("First message sent")
///     c <- "Second message"
///     fmt.Println("Second message sent")
/// }
///
/// func main() {
///     c := make(chan string, 2)
///     go sendData(c)
///     time.Sleep(500 * time.Millisecond)
///     msg := <-c // this will receive the first message
///     fmt.Println("Message received:", msg)
///     msg = <-c // this will receive the second message
///     fmt.Println("Message received:", msg)
/// }
/// ```
pub fn buffered_channel(out: &Out) {
    let (tx, c) = chan::<&str>(2);
    go!(send_both(out.clone(), tx));
    sleep(millis(500));
    let msg = c.recv().unwrap(); // this will receive the first message
    outln!(out, "Message received: {msg}");
    let msg = c.recv().unwrap(); // this will receive the second message
    outln!(out, "Message received: {msg}");
}

fn send_data(c: Sender<&str>, msg: &'static str) {
    c.send(msg).unwrap(); // Sending data to the channel
}

fn receive_data(out: Out, c: Receiver<&str>) {
    let msg = c.recv().unwrap(); // receiving from the channel
    outln!(out, "received:  {msg}");
}

/// 8.2 "Channel Directionality". The seed's `main` waits with
/// `fmt.Scanln(&input)` for a line on stdin; its comment says what is meant
/// ("sleeping for one second to make sure that goroutines are executed"),
/// and the twin does that so that it runs without a terminal. Go's
/// directional `chan<- string` and `<-chan string` are goro's `Sender` and
/// `Receiver` halves.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func sendData(c chan<- string, msg string) {
///     c <- msg // Sending data to the channel
/// }
///
/// func receiveData(c <-chan string) {
///     msg := <-c // receiving from the channel
///     fmt.Println("received: ", msg)
/// }
///
/// func main() {
///     c := make(chan string)
///
///     go sendData(c, "Hello, world!") // Calling sendData with a send only channel
///     go receiveData(c)               // calling receiveData with a receive only channel
///
///     // sleeping for one second to make sure that goroutines are executed
///     time.Sleep(1 * time.Second)
/// }
/// ```
pub fn channel_directionality(out: &Out) {
    let (tx, c) = chan::<&str>(0);

    go!(send_data(tx, "Hello, world!")); // Calling send_data with a send only channel
    go!(receive_data(out.clone(), c)); // calling receive_data with a receive only channel

    // sleeping for one second to make sure that goroutines are executed
    sleep(secs(1));
}

fn pool_worker(out: Out, id: i32, jobs: Receiver<i32>, results: Sender<i32>) {
    for j in &jobs {
        outln!(out, "worker {id} processing job {j}");
        sleep(millis(rand_intn(500))); // simulate work
        results.send(j * 2).unwrap();
    }
}

/// 8.2 "Patterns for Concurrency: Worker Pool" (complete in the seed):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "math/rand"
///     "time"
/// )
///
/// func worker(id int, jobs <-chan int, results chan<- int) {
///     for j := range jobs {
///         fmt.Println("worker", id, "processing job", j)
///         time.Sleep(time.Duration(rand.Intn(500)) * time.Millisecond) // simulate work
///         results <- j * 2
///     }
/// }
///
/// func main() {
///     jobs := make(chan int, 100)
///     results := make(chan int, 100)
///
///     for i := 0; i < 3; i++ {
///         go worker(i, jobs, results)
///     }
///
///     for i := 0; i < 10; i++ {
///         jobs <- i
///     }
///
///     close(jobs) // tell workers there are no more jobs
///
///     for i := 0; i < 10; i++ {
///         result := <-results
///         fmt.Println("received: ", result)
///     }
/// }
/// ```
pub fn worker_pool(out: &Out) {
    let (jobs_tx, jobs) = chan::<i32>(100);
    let (results_tx, results) = chan::<i32>(100);

    for i in 0..3 {
        go!(pool_worker(
            out.clone(),
            i,
            jobs.clone(),
            results_tx.clone()
        ));
    }

    for i in 0..10 {
        jobs_tx.send(i).unwrap();
    }

    jobs_tx.close(); // tell workers there are no more jobs

    for _ in 0..10 {
        let result = results.recv().unwrap();
        outln!(out, "received:  {result}");
    }
}

// The loop's `i` shadows the parameter `i`, as in Go: the goroutines print
// their loop counts, not their numbers.
fn increment_counter_racy(out: Out, counter: Arc<AtomicI64>, wg: WaitGroup, _i: i32) {
    for i in 0..1000 {
        racy_increment(&counter);
        outln!(
            out,
            "goroutine: {i} counter: {}",
            counter.load(Ordering::Relaxed)
        );
    }
    wg.done();
}

/// 8.3 "Preventing Race Conditions" (complete in the seed but for its
/// unused `time` import). Go's `counter++` is the data race the section is
/// about; the twin keeps its lost updates with [`racy_increment`]. The final
/// count is at most 2000, and less whenever an update was lost.
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "sync"
/// )
///
/// var counter int // shared resource, accessing it concurrently will cause a race condition
/// var wg sync.WaitGroup
///
/// func incrementCounter(i int) {
///     defer wg.Done()
///     for i := 0; i < 1000; i++ {
///         counter++
///         fmt.Println("goroutine:", i, "counter:", counter)
///     }
/// }
///
/// func main() {
///     wg.Add(2)
///     go incrementCounter(1)
///     go incrementCounter(2)
///     wg.Wait()
///     fmt.Println("Final counter:", counter) // this will return a random number due to the race condition.
/// }
/// ```
pub fn race_condition(out: &Out) {
    let counter = Arc::new(AtomicI64::new(0)); // shared resource
    let wg = WaitGroup::new();
    wg.add(2);
    go!(increment_counter_racy(
        out.clone(),
        counter.clone(),
        wg.clone(),
        1
    ));
    go!(increment_counter_racy(
        out.clone(),
        counter.clone(),
        wg.clone(),
        2
    ));
    wg.wait();
    // this will return a random number due to the race condition.
    outln!(out, "Final counter: {}", counter.load(Ordering::Relaxed));
}

// As above, the loop's `i` shadows the parameter.
fn increment_counter(out: Out, counter: Arc<Mutex<i32>>, wg: WaitGroup, _i: i32) {
    for i in 0..1000 {
        let mut c = counter.lock(); // Lock access to the shared resource
        *c += 1;
        outln!(out, "goroutine:  {i} counter:  {}", *c);
        drop(c); // Unlock access to the shared resource
        sleep(micros(100)); // simulating some work
    }
    wg.done();
}

/// 8.3 "Using `sync.Mutex`" (complete in the seed). Go's `m` and the
/// `counter` it guards are one `Mutex<i32>` in Rust, where a mutex owns
/// its data. Each line is printed under the lock, so the counts come out
/// in order, 1 to 2000.
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
/// var counter int // shared resource, accessing it concurrently will cause a race condition
/// var wg sync.WaitGroup
/// var m sync.Mutex // declare the mutex variable
///
/// func incrementCounter(i int) {
///     defer wg.Done()
///     for i := 0; i < 1000; i++ {
///         m.Lock() // Lock access to the shared resource
///         counter++
///         fmt.Println("goroutine: ", i, "counter: ", counter)
///         m.Unlock()                         // Unlock access to the shared resource
///         time.Sleep(100 * time.Microsecond) // simulating some work
///     }
/// }
///
/// func main() {
///     wg.Add(2)
///     go incrementCounter(1)
///     go incrementCounter(2)
///     wg.Wait()
///
///     fmt.Println("Final counter:", counter) // The output will always be 2000.
/// }
/// ```
pub fn mutex_counter(out: &Out) {
    let counter = Arc::new(Mutex::new(0)); // shared resource and its mutex
    let wg = WaitGroup::new();
    wg.add(2);
    go!(increment_counter(
        out.clone(),
        counter.clone(),
        wg.clone(),
        1
    ));
    go!(increment_counter(
        out.clone(),
        counter.clone(),
        wg.clone(),
        2
    ));
    wg.wait();

    outln!(out, "Final counter: {}", *counter.lock()); // The output will always be 2000.
}

fn wait_group_worker(out: Out, id: i32, wg: WaitGroup) {
    outln!(out, "Worker: {id} starting");
    sleep(secs(1));
    outln!(out, "Worker: {id} done");
    wg.done();
}

/// 8.4 "Synchronizing the Execution of Goroutines" (complete in the seed):
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
/// func worker(id int, wg *sync.WaitGroup) {
///     defer wg.Done()
///     fmt.Println("Worker:", id, "starting")
///     time.Sleep(1 * time.Second)
///     fmt.Println("Worker:", id, "done")
/// }
///
/// func main() {
///     var wg sync.WaitGroup
///     wg.Add(3)
///     go worker(1, &wg)
///     go worker(2, &wg)
///     go worker(3, &wg)
///     wg.Wait()
///     fmt.Println("All workers done")
/// }
/// ```
pub fn wait_group(out: &Out) {
    let wg = WaitGroup::new();
    wg.add(3);
    go!(wait_group_worker(out.clone(), 1, wg.clone()));
    go!(wait_group_worker(out.clone(), 2, wg.clone()));
    go!(wait_group_worker(out.clone(), 3, wg.clone()));
    wg.wait();
    outln!(out, "All workers done");
}
