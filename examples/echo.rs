//! An echo server on `goro::net`: one goroutine per connection, each
//! writing back whatever it reads until the client closes its write half.
//! SIGINT or SIGTERM shuts it down gracefully (`graceful/mod.rs`).
//!
//! Run: `cargo run --release --example echo -- 127.0.0.1:7000`
//! (default address `127.0.0.1:7000`), then e.g. `nc 127.0.0.1 7000`.

use std::io::{self, Read, Write};
use std::time::Duration;

use goro::context;
use goro::net::{TcpListener, TcpStream};
use goro::signal::{self, Signal};

// Each server includes it; a test that includes two servers loads it twice.
#[allow(clippy::duplicate_mod)]
#[path = "graceful/mod.rs"]
mod graceful;

/// Echoes everything `conn` sends until it reaches end of stream.
pub fn handle(mut conn: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n])?;
    }
}

/// Accepts connections until accepting fails, one goroutine each.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    graceful::Server::start(listener, handle).wait()
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    goro::run(move || {
        let (ctx, stop) = signal::notify_context(
            &context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        );
        let listener = TcpListener::bind(addr.as_str())?;
        println!("echo server listening on {}", listener.local_addr()?);
        let server = graceful::Server::start(listener, handle);
        let _ = ctx.done().recv();
        stop.cancel();
        println!("shutting down gracefully, press Ctrl+C again to force");
        server.shutdown(Duration::from_secs(5))
    })
}
