//! Graceful shutdown for the example servers, Go's `http.Server` idiom:
//!
//! ```text
//! ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//! go srv.Serve(ln)
//! <-ctx.Done(); stop()
//! srv.Shutdown(timeoutCtx)
//! ```
//!
//! [`Server::start`] accepts in its own goroutine, one goroutine per
//! connection, and remembers each open connection. [`Server::shutdown`]
//! stops accepting, shuts the read half of every open connection (a
//! handler waiting for the next request reads end-of-stream; one that has
//! a request in hand still writes its answer) and waits for the handlers
//! to finish, up to a grace period.

use std::collections::HashMap;
use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::net::{TcpListener, TcpStream};
use goro::sync::{Mutex, WaitGroup};

/// A running server (see the module comment).
pub struct Server {
    listener: Arc<TcpListener>,
    /// A second handle to every open connection, by id.
    open: Arc<Mutex<HashMap<u64, TcpStream>>>,
    handlers: WaitGroup,
    stopping: Arc<AtomicBool>,
    acceptor: goro::JoinHandle<io::Result<()>>,
}

impl Server {
    /// Starts accepting on `listener`, serving each connection with
    /// `handle` in its own goroutine.
    pub fn start<H>(listener: TcpListener, handle: H) -> Server
    where
        H: Fn(TcpStream) -> io::Result<()> + Send + Sync + 'static,
    {
        let (listener, handle) = (Arc::new(listener), Arc::new(handle));
        let open = Arc::new(Mutex::new(HashMap::new()));
        let handlers = WaitGroup::new();
        let stopping = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (listener, open) = (listener.clone(), open.clone());
            let (handlers, stopping) = (handlers.clone(), stopping.clone());
            goro::go!(move || {
                for id in 0u64.. {
                    let conn = match listener.accept() {
                        Ok((conn, _)) => conn,
                        Err(_) if stopping.load(Ordering::SeqCst) => break,
                        Err(e) => return Err(e),
                    };
                    open.lock().insert(id, conn.try_clone()?);
                    let (open, handle) = (open.clone(), handle.clone());
                    handlers.go(move || {
                        let _ = handle(conn);
                        open.lock().remove(&id);
                    });
                }
                Ok(())
            })
        };
        Server {
            listener,
            open,
            handlers,
            stopping,
            acceptor,
        }
    }

    /// Serves until accepting fails (never, short of an error).
    pub fn wait(self) -> io::Result<()> {
        join(self.acceptor)
    }

    /// Stops accepting, ends every connection after the request it is
    /// serving, and waits up to `grace` for the handlers to return
    /// (`TimedOut` if some did not).
    pub fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.stopping.store(true, Ordering::SeqCst);
        self.listener.shutdown()?;
        join(self.acceptor)?;
        for conn in self.open.lock().values() {
            let _ = conn.shutdown(Shutdown::Read);
        }
        let (done, finished) = goro::chan::<()>(0);
        let handlers = self.handlers.clone();
        goro::go!(move || {
            handlers.wait();
            drop(done);
        });
        goro::select! {
            recv(finished) -> _ => Ok(()),
            recv(goro::time::after(grace)) -> _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connections still open after the grace period",
            )),
        }
    }
}

fn join(acceptor: goro::JoinHandle<io::Result<()>>) -> io::Result<()> {
    match acceptor.join() {
        Ok(r) => r,
        Err(_) => Err(io::Error::other("the accepting goroutine panicked")),
    }
}
