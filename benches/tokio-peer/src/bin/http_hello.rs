//! The Tokio + hyper twin of goro's `examples/http_hello.rs`, for `wrk`
//! (HTTP/1.1, keep-alive, "Hello, World!" as text/plain).
//!
//!     GOMAXPROCS=2 /tmp/goro-peer-target/release/http_hello 127.0.0.1:8082

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    resp.headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    Ok(resp)
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8082".to_string());
    let procs = std::env::var("GOMAXPROCS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |p| p.get()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(procs)
        .enable_all()
        .build()
        .expect("cannot build the tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await.unwrap();
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(conn), service_fn(hello))
                    .await;
            });
        }
    });
}
