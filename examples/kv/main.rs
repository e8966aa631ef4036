//! goro-kv: a Redis-protocol (RESP2) key-value server written the way a Go
//! programmer would write it on goro: one goroutine per connection, a
//! goroutine and a channel per subscriber, a sweeper goroutine on a
//! ticker, shutdown driven by a `Context`. `docs/kv.md` walks through it.
//!
//! Run: `cargo run --release --example kv -- --addr 127.0.0.1:7379`,
//! then `redis-cli -p 7379 set k v` or `redis-benchmark -p 7379`.
//!
//! Modules: `resp` (framing), `connection` (one client), `commands` (the
//! data commands), `db` (sharded keyspace and expiry), `sweeper` (active
//! expiry), `pubsub` (the broker), `info` (INFO), `server` (shared state,
//! accept loop, limit and shutdown).

mod commands;
mod connection;
mod db;
mod info;
mod pubsub;
mod resp;
mod server;
mod sweeper;

use std::io;
use std::time::Duration;

use clap::Parser;
use goro::context;
use goro::net::TcpListener;
use goro::signal::{self, Signal};

pub use server::{serve, Config, Server};

/// A Redis-protocol server on goro.
#[derive(Parser, Debug)]
#[command(name = "goro-kv")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7379")]
    addr: String,
    /// Ps (GOMAXPROCS); default: goro's rule (GOMAXPROCS, else the CPUs).
    #[arg(long)]
    procs: Option<usize>,
    /// Most connections served at once; more are refused.
    #[arg(long, default_value_t = Config::default().max_clients)]
    max_clients: usize,
    /// Shards of the keyspace, each under its own lock.
    #[arg(long, default_value_t = Config::default().shards)]
    shards: usize,
    /// Milliseconds between sweeps for expired keys.
    #[arg(long, default_value_t = Config::default().sweep_every.as_millis() as u64)]
    sweep_ms: u64,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let mut builder = goro::Runtime::builder();
    if let Some(n) = args.procs {
        builder = builder.procs(n);
    }
    let config = Config {
        max_clients: args.max_clients,
        shards: args.shards,
        sweep_every: Duration::from_millis(args.sweep_ms.max(1)),
    };
    builder.build()?.run(move || {
        // Ctrl-C or SIGTERM cancels `ctx`: the graceful shutdown. Then the
        // watch ends (Go's `<-ctx.Done(); stop()`), so a second Ctrl-C
        // during the drain kills the process.
        let (ctx, stop) = signal::notify_context(
            &context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        );
        let signalled = ctx.clone();
        goro::go!(move || {
            let _ = signalled.done().recv();
            stop.cancel();
        });
        let listener = TcpListener::bind(args.addr.as_str())?;
        eprintln!("goro-kv listening on {}", listener.local_addr()?);
        serve(listener, &ctx, Server::new(config))
    })
}
