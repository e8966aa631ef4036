//! The server: shared state ([`Server`]) and the accept loop ([`serve`]).
//!
//! Go's shape: one goroutine per connection, started by an accept loop;
//! a `WaitGroup` counts them. Shutdown is driven by a
//! `goro::context::Context`: when it is done, an `after_func` registered
//! on it shuts the listener down (the pending `accept` fails), every
//! connection's own `after_func` shuts its socket's read side (its
//! blocked `read` returns end of stream, so it answers what it already
//! read and leaves), the sweeper goroutine stops, and `serve` returns once
//! the last connection has finished.
//!
//! The connection limit is a `goro::sync::Semaphore` of `max_clients`
//! permits, taken without waiting: a client past the limit is told
//! `-ERR max number of clients reached` and closed, as Redis does.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::{self, Context};
use goro::net::TcpListener;
use goro::sync::{Semaphore, WaitGroup};

use super::db::Db;
use super::pubsub::Broker;
use super::{connection, sweeper};

/// What `main`'s flags set.
#[derive(Clone, Debug)]
pub struct Config {
    /// Connections served at once; more are refused.
    pub max_clients: usize,
    /// Shards of the keyspace.
    pub shards: usize,
    /// How often the sweeper removes expired keys.
    pub sweep_every: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: 10_000,
            shards: 64,
            sweep_every: Duration::from_millis(100),
        }
    }
}

/// State shared by every connection.
pub struct Server {
    /// The keyspace.
    pub db: Db,
    /// Pub/sub channels and their subscribers.
    pub broker: Broker,
    /// What `main`'s flags set.
    pub config: Config,
    /// Permits for connections: `max_clients` minus those connected.
    clients: Semaphore,
    next_id: AtomicU64,
    /// When the server started (`INFO`'s `uptime_in_seconds`).
    pub started: Instant,
}

impl Server {
    /// A server with an empty keyspace, shared by the connections.
    pub fn new(config: Config) -> Arc<Server> {
        Arc::new(Server {
            db: Db::new(config.shards),
            broker: Broker::default(),
            clients: Semaphore::new(config.max_clients),
            next_id: AtomicU64::new(1),
            started: Instant::now(),
            config,
        })
    }

    /// Connections being served now.
    pub fn connected(&self) -> usize {
        self.config.max_clients - self.clients.available()
    }

    /// A connection's permit, or `None` at the limit.
    fn admit(self: &Arc<Server>) -> Option<Permit> {
        self.clients.try_acquire(1).then(|| Permit(self.clone()))
    }

    /// A fresh connection id (its subscriber key in the broker), from 1 up.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A connection's place under the limit, given back when dropped (also
/// when the connection's goroutine panics).
struct Permit(Arc<Server>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.clients.release(1);
    }
}

/// Serves `listener` until `ctx` is done, then waits for the connections
/// to finish. Returns early with the error if accepting fails for another
/// reason than running out of file descriptors (then it retries, as Go's
/// `http.Server` does).
pub fn serve(listener: TcpListener, ctx: &Context, server: Arc<Server>) -> io::Result<()> {
    let listener = Arc::new(listener);
    let stop_accepting = {
        let listener = listener.clone();
        context::after_func(ctx, move || {
            let _ = listener.shutdown();
        })
    };
    goro::go!(sweeper::run(server.clone(), ctx.clone()));
    let conns = WaitGroup::new();
    loop {
        let conn = match listener.accept() {
            Ok((conn, _)) => conn,
            Err(_) if ctx.err().is_some() => break,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                goro::time::sleep(Duration::from_millis(10));
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(e) => return Err(e),
        };
        let Some(permit) = server.admit() else {
            let _ = (&conn).write_all(b"-ERR max number of clients reached\r\n");
            continue;
        };
        let ctx = ctx.clone();
        conns.go(move || {
            let _ = connection::handle(&permit.0, conn, &ctx);
            drop(permit);
        });
    }
    stop_accepting.stop();
    conns.wait();
    Ok(())
}
