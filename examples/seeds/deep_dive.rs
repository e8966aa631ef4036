//! Twins of the Go programs in seed `002_40c8805360eb4f75.txt` ("Concurrency
//! and Parallelism In Golang And Python"): its two Go fragments, a goroutine
//! launch and an unbuffered channel hand-over. Everything it needs is here.

use crate::harness::{secs, Out, Twin};
use goro::time::sleep;
use goro::{chan, go};

/// Every twin of this document, in order.
pub const TWINS: &[Twin] = twins![goroutines, channels];

fn my_function(out: Out) {
    outln!(out, "myFunction runs in its own goroutine");
}

/// Section "Goroutines": the fragment `go myFunction()`, completed with a
/// `myFunction` that prints and a `main` that gives it a second to run (as
/// the other seeds do; without the wait nothing is guaranteed to print):
///
/// ```go
/// package main
///
/// import (
///     "fmt"
///     "time"
/// )
///
/// func myFunction() {
///     fmt.Println("myFunction runs in its own goroutine")
/// }
///
/// func main() {
///     go myFunction()
///     time.Sleep(time.Second)
/// }
/// ```
pub fn goroutines(out: &Out) {
    go!(my_function(out.clone()));
    sleep(secs(1));
}

/// Section "Channels", completed with `main`:
///
/// ```go
/// package main
///
/// import "fmt"
///
/// func main() {
///     ch := make(chan int) // Create a channel of int
///
///     go func() {
///         ch <- 100 // Send value into channel
///     }()
///
///     val := <-ch      // Receive value from channel
///     fmt.Println(val) // Output: 100
/// }
/// ```
pub fn channels(out: &Out) {
    let (tx, ch) = chan::<i32>(0); // Create a channel of int

    go!(move || {
        tx.send(100).unwrap(); // Send value into channel
    });

    let val = ch.recv().unwrap(); // Receive value from channel
    outln!(out, "{val}"); // Output: 100
}
