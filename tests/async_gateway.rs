//! The `http_gateway` example driven over loopback: goro's
//! goroutine-per-connection server forwards each request to an upstream
//! hyper server on Tokio, through hyper's client in
//! `goro::compat::tokio::block_on`.

#[allow(dead_code)]
#[path = "../examples/http_gateway.rs"]
mod http_gateway;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use goro::net::{TcpListener, TcpStream};
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// A hyper server on the bridge's Tokio runtime: answers `hello <path>` and
/// counts the connections it accepted.
fn start_upstream(connections: Arc<AtomicUsize>) -> SocketAddr {
    goro::compat::tokio::block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                connections.fetch_add(1, Ordering::SeqCst);
                let service =
                    hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let body = format!("hello {}", req.uri().path());
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    })
}

fn start_gateway(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go!(move || http_gateway::serve(listener, upstream));
    addr
}

/// Reads one response with a Content-Length body.
fn read_response(conn: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "connection closed early");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
    head + &String::from_utf8(body).unwrap()
}

/// 20 clients × 5 keep-alive requests: every answer is the upstream's for
/// that path, and each downstream connection reused one upstream
/// connection.
#[goro::test(procs = 2)]
fn gateway_forwards_requests_over_hypers_client() {
    let connections = Arc::new(AtomicUsize::new(0));
    let upstream = start_upstream(connections.clone());
    let gateway = start_gateway(upstream);
    let clients: Vec<_> = (0..20)
        .map(|c| {
            goro::go!(move || {
                let mut conn = TcpStream::connect(gateway).unwrap();
                for r in 0..5 {
                    let req = format!("GET /c{c}/r{r} HTTP/1.1\r\nHost: gw\r\n\r\n");
                    conn.write_all(req.as_bytes()).unwrap();
                    let resp = read_response(&mut conn);
                    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
                    assert!(
                        resp.ends_with(&format!("\r\n\r\nupstream 200: hello /c{c}/r{r}")),
                        "{resp}"
                    );
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(connections.load(Ordering::SeqCst), 20);
}

#[goro::test(procs = 1)]
fn unreachable_upstream_is_a_502_and_bad_requests_a_400() {
    // A port nobody listens on: bind, note it, close.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gateway = start_gateway(dead);
    let mut conn = TcpStream::connect(gateway).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(read_response(&mut conn).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
    conn.write_all(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap();
    let resp = read_response(&mut conn);
    assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{resp}");
    assert!(resp.contains("Connection: close"), "{resp}");
}
