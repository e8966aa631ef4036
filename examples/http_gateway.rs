//! An HTTP gateway: a goroutine-per-connection server on `goro::net` whose
//! handler calls an upstream server with hyper's async HTTP/1 client,
//! through `goro::compat::tokio::block_on`.
//!
//! Each downstream connection's goroutine opens one upstream connection on
//! its first request and keeps hyper's `SendRequest` in a plain local
//! across requests: straight-line, blocking-style code, with the client's
//! futures polled on the goroutine (which parks, not its thread, while
//! they wait) and hyper's connection task on the Tokio runtime.
//!
//! Run an upstream, e.g. `cargo run --release --example http_hello --
//! 127.0.0.1:8081`, then
//! `cargo run --release --example http_gateway -- 127.0.0.1:8080 127.0.0.1:8081`
//! and `curl http://127.0.0.1:8080/anything`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use bytes::Bytes;
use goro::compat::tokio::block_on;
use goro::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;

/// The parts of a downstream request the gateway uses.
struct Request {
    path: String,
    close: bool,
}

/// Parses a request head (without its final blank line). Only requests
/// without a body are accepted (GET, HEAD, ...).
fn parse(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (_method, path, version) = (parts.next()?, parts.next()?, parts.next()?);
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") && value != "0"
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return None;
        }
        if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    Some(Request {
        path: path.to_string(),
        close,
    })
}

/// Reads one request head from `conn` into `buf` (which keeps what follows
/// it); `Ok(None)` at end of stream.
fn read_head(conn: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<String>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Ok(Some(head));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Opens an HTTP/1 client connection to `upstream`; hyper's connection
/// task runs on the Tokio runtime.
async fn connect(upstream: SocketAddr) -> Result<SendRequest<Empty<Bytes>>, Error> {
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Sends `GET path` on `sender` and returns the status and body.
async fn get(
    sender: &mut SendRequest<Empty<Bytes>>,
    upstream: SocketAddr,
    path: &str,
) -> Result<(u16, Bytes), Error> {
    sender.ready().await?;
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, upstream.to_string())
        .body(Empty::new())?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn respond(conn: &mut TcpStream, status: &str, body: &[u8], close: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    conn.write_all(&out)
}

/// Serves one downstream connection: each request is forwarded upstream on
/// this goroutine's own upstream connection.
pub fn handle(mut conn: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    while let Some(head) = read_head(&mut conn, &mut buf)? {
        let Some(req) = parse(&head) else {
            return respond(&mut conn, "400 Bad Request", b"", true);
        };
        let reply = block_on(async {
            if sender.as_ref().is_none_or(SendRequest::is_closed) {
                sender = Some(connect(upstream).await?);
            }
            match sender.as_mut() {
                Some(s) => get(s, upstream, &req.path).await,
                None => unreachable!("connected above"),
            }
        });
        match reply {
            Ok((status, body)) => {
                let mut text = format!("upstream {status}: ").into_bytes();
                text.extend_from_slice(&body);
                respond(&mut conn, "200 OK", &text, req.close)?;
            }
            Err(e) => {
                sender = None;
                respond(
                    &mut conn,
                    "502 Bad Gateway",
                    e.to_string().as_bytes(),
                    req.close,
                )?;
            }
        }
        if req.close {
            return Ok(());
        }
    }
    Ok(())
}

/// Accepts connections until accepting fails, one goroutine each.
pub fn serve(listener: TcpListener, upstream: SocketAddr) -> io::Result<()> {
    loop {
        let (conn, _) = listener.accept()?;
        goro::go!(move || {
            let _ = handle(conn, upstream);
        });
    }
}

#[goro::main]
fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let upstream: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8081".to_string())
        .parse()?;
    let listener = TcpListener::bind(listen.as_str())?;
    println!(
        "gateway on {} -> upstream {upstream}",
        listener.local_addr()?
    );
    serve(listener, upstream)?;
    Ok(())
}
