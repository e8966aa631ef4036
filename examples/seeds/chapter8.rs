//! Twins of the Go programs in seed `001_67188d7919ce9432.txt` ("Chapter 8:
//! Concurrency and Parallelism"): goroutines, channels (unbuffered,
//! buffered, directional) and a worker pool. One function per Go program,
//! in the document's order.
//!
//! Not twinned yet (they need `sync`, which goro does not have yet): 8.3's
//! race-condition and `sync.Mutex` programs (`sync.WaitGroup`,
//! `sync.Mutex`) and 8.4's `sync.WaitGroup` program.

use crate::harness::{millis, rand_intn, secs, Out, Twin};
use goro::time::sleep;
use goro::{chan, go, Receiver, Sender};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![
    launching_goroutines,
    concurrent_execution,
    channel_communication,
    unbuffered_channel,
    buffered_channel,
    channel_directionality,
    worker_pool,
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
