//! An HTTP/1.1 "hello" server on `goro::net`: one goroutine per
//! connection, keep-alive, and safe under pipelining (every complete
//! request in the buffer is answered, in order, in one write). Requests
//! are parsed with httparse; SIGINT or SIGTERM shuts it down gracefully
//! (`graceful/mod.rs`).
//!
//! Run: `cargo run --release --example http_hello -- 127.0.0.1:8080`
//! (default address `127.0.0.1:8080`), then `curl http://127.0.0.1:8080/`
//! or `wrk -c 64 http://127.0.0.1:8080/`.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime};

use goro::context;
use goro::net::{TcpListener, TcpStream};
use goro::signal::{self, Signal};

// Each server includes it; a test that includes two servers loads it twice.
#[allow(clippy::duplicate_mod)]
#[path = "graceful/mod.rs"]
mod graceful;

const BODY: &[u8] = b"Hello, World!";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;
/// A request body larger than this is refused (it is read and ignored).
const MAX_BODY: usize = 1024 * 1024;
/// Headers per request that the parser accepts (more: 400).
const MAX_HEADERS: usize = 64;

/// One parsed request head: its length with the body, and whether the
/// client asked to close the connection afterwards.
struct Request {
    len: usize,
    close: bool,
}

/// Parses the first request in `buf` with httparse: `Ok(None)` if it is
/// not complete yet, `Err` for a request this server refuses (answered
/// with 400).
fn parse(buf: &[u8]) -> Result<Option<Request>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return Ok(None),
        _ => return Err(()),
    };
    let http10 = req.version == Some(0);
    let mut body = 0;
    let mut close = http10;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value).map_err(|_| ())?.trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            body = value.parse::<usize>().map_err(|_| ())?;
            if body > MAX_BODY {
                return Err(());
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are not supported: refuse rather than
            // misread the rest of the pipeline.
            return Err(());
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close")
                || (http10 && !value.eq_ignore_ascii_case("keep-alive"));
        }
    }
    let len = head_len + body;
    Ok((buf.len() >= len).then_some(Request { len, close }))
}

/// Appends the answer to one request: the headers Go's net/http sends for
/// this handler (Content-Type, Date, Content-Length; hyper sends the same
/// three), the Date formatted once per second per thread.
fn respond(out: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: ");
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            *d = (secs, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(d.1.as_bytes());
    });
    out.extend_from_slice(b"\r\nContent-Length: 13\r\n\r\n");
    out.extend_from_slice(BODY);
}

/// Serves one connection until the client closes it or asks to.
pub fn handle(mut conn: TcpStream) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        let mut close = false;
        loop {
            match parse(&buf[start..]) {
                Ok(Some(req)) => {
                    respond(&mut out);
                    start += req.len;
                    if req.close {
                        close = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(()) => {
                    out.extend_from_slice(BAD_REQUEST);
                    close = true;
                    break;
                }
            }
        }
        buf.drain(..start);
        conn.write_all(&out)?;
        out.clear();
        if close {
            return Ok(());
        }
    }
}

/// Accepts connections until accepting fails, one goroutine each.
pub fn serve(listener: TcpListener) -> io::Result<()> {
    graceful::Server::start(listener, handle).wait()
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    goro::run(move || {
        let (ctx, stop) = signal::notify_context(
            &context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        );
        let listener = TcpListener::bind(addr.as_str())?;
        println!(
            "http hello server listening on http://{}/",
            listener.local_addr()?
        );
        let server = graceful::Server::start(listener, handle);
        let _ = ctx.done().recv();
        stop.cancel();
        println!("shutting down gracefully, press Ctrl+C again to force");
        server.shutdown(Duration::from_secs(5))
    })
}
