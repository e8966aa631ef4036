//! A chat server on `goro::net` and channels: every line a client sends
//! goes to every other client, prefixed with the sender's address. A hub
//! goroutine owns the client list; each client has a reader goroutine
//! (lines to the hub) and a writer goroutine (its outgoing channel to the
//! socket), so a slow client never stalls the hub for long (its channel
//! buffers; when full, that client's messages are dropped, as Go's example
//! servers do). SIGINT or SIGTERM shuts it down gracefully
//! (`graceful/mod.rs`).
//!
//! Run: `cargo run --release --example chat -- 127.0.0.1:9000`
//! (default address `127.0.0.1:9000`), then `nc 127.0.0.1 9000` twice.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::context;
use goro::net::{TcpListener, TcpStream};
use goro::signal::{self, Signal};
use goro::{chan, Receiver, Sender};

// Each server includes it; a test that includes two servers loads it twice.
#[allow(clippy::duplicate_mod)]
#[path = "graceful/mod.rs"]
mod graceful;

/// Lines a client may have queued before it misses messages.
const OUTBOX: usize = 64;

/// What a client's goroutine tells the hub.
pub enum Event {
    /// Client `id` connected; its lines go to this outbox.
    Join(u64, Sender<Arc<str>>),
    /// Client `id` sent a line, to go to everyone else.
    Line(u64, String),
    /// Client `id` left; its outbox is dropped.
    Leave(u64),
}

/// The hub: owns the clients' outboxes, fans lines out.
pub fn hub(events: Receiver<Event>) {
    let mut clients: HashMap<u64, Sender<Arc<str>>> = HashMap::new();
    while let Ok(ev) = events.recv() {
        match ev {
            Event::Join(id, outbox) => {
                clients.insert(id, outbox);
            }
            Event::Leave(id) => {
                clients.remove(&id);
            }
            Event::Line(from, line) => {
                let line: Arc<str> = line.into();
                for (id, outbox) in &clients {
                    if *id != from {
                        let _ = outbox.try_send(line.clone());
                    }
                }
            }
        }
    }
}

/// Runs one client: registers it, then reads its lines until it leaves.
pub fn client(id: u64, conn: TcpStream, events: Sender<Event>) -> io::Result<()> {
    let who = conn.peer_addr()?;
    let (outbox, inbox) = chan::<Arc<str>>(OUTBOX);
    let mut out = conn.try_clone()?;
    let writer = goro::go!(move || {
        while let Ok(line) = inbox.recv() {
            if out.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let _ = events.send(Event::Join(id, outbox));
    for line in BufReader::new(&conn).lines() {
        let Ok(line) = line else { break };
        let _ = events.send(Event::Line(id, format!("{who}: {line}\n")));
    }
    // Leaving drops the hub's outbox sender, which ends the writer.
    let _ = events.send(Event::Leave(id));
    let _ = writer.join();
    Ok(())
}

/// Accepts clients until accepting fails; starts the hub.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    start(listener).wait()
}

/// Starts the hub and a server whose connections are its clients.
fn start(listener: TcpListener) -> graceful::Server {
    let (events, hub_events) = chan::<Event>(1024);
    goro::go!(move || hub(hub_events));
    let ids = AtomicU64::new(0);
    graceful::Server::start(listener, move |conn| {
        client(ids.fetch_add(1, Ordering::Relaxed), conn, events.clone())
    })
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_string());
    goro::run(move || {
        let (ctx, stop) = signal::notify_context(
            &context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        );
        let listener = TcpListener::bind(addr.as_str())?;
        println!("chat server listening on {}", listener.local_addr()?);
        let server = start(listener);
        let _ = ctx.done().recv();
        stop.cancel();
        println!("shutting down gracefully, press Ctrl+C again to force");
        server.shutdown(Duration::from_secs(5))
    })
}
