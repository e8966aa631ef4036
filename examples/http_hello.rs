//! An HTTP/1.1 "hello" server on `goro::net`: one goroutine per
//! connection, keep-alive, and safe under pipelining (every complete
//! request in the buffer is answered, in order, in one write).
//!
//! Run: `cargo run --release --example http_hello -- 127.0.0.1:8080`
//! (default address `127.0.0.1:8080`), then `curl http://127.0.0.1:8080/`
//! or `wrk -c 64 http://127.0.0.1:8080/`.

use std::io::{self, Read, Write};

use goro::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;
/// A request body larger than this is refused (it is read and ignored).
const MAX_BODY: usize = 1024 * 1024;

/// One parsed request head: its length with the body, and whether the
/// client asked to close the connection afterwards.
struct Request {
    len: usize,
    close: bool,
}

/// Parses the first request in `buf`: `Ok(None)` if it is not complete
/// yet, `Err` for a request this server refuses (answered with 400).
fn parse(buf: &[u8]) -> Result<Option<Request>, ()> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Err(())
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| ())?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().ok_or(())?;
    let http10 = request_line.ends_with("HTTP/1.0");
    let mut body = 0;
    let mut close = http10;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(())?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            body = value.parse::<usize>().map_err(|_| ())?;
            if body > MAX_BODY {
                return Err(());
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are not supported: refuse rather than
            // misread the rest of the pipeline.
            return Err(());
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close")
                || (http10 && !value.eq_ignore_ascii_case("keep-alive"));
        }
    }
    let len = head_end + 4 + body;
    Ok((buf.len() >= len).then_some(Request { len, close }))
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
                    out.extend_from_slice(RESPONSE);
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
    loop {
        let (conn, _) = listener.accept()?;
        goro::go!(move || {
            let _ = handle(conn);
        });
    }
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    goro::run(move || {
        let listener = TcpListener::bind(addr.as_str())?;
        println!(
            "http hello server listening on http://{}/",
            listener.local_addr()?
        );
        serve(listener)
    })
}
