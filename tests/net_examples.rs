//! The network examples driven over loopback: the HTTP/1.1 hello server
//! (keep-alive, pipelining, `Connection: close`, bad requests, many
//! clients) and the chat server (lines reach every other client).

#[allow(dead_code)]
#[path = "../examples/http_hello.rs"]
mod http_hello;

#[allow(dead_code)]
#[path = "../examples/chat.rs"]
mod chat;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::net::{TcpListener, TcpStream};

/// The hello response around its Date header (Go's net/http sends the
/// same three headers), and the length of an IMF-fixdate.
const HELLO_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: ";
const HELLO_TAIL: &str = "\r\nContent-Length: 13\r\n\r\nHello, World!";
const DATE_LEN: usize = "Mon, 07 Dec 2026 21:55:00 GMT".len();
const HELLO_LEN: usize = HELLO_HEAD.len() + DATE_LEN + HELLO_TAIL.len();

/// Reads `n` hello responses from `conn` and checks each.
fn read_hellos(conn: &mut TcpStream, n: usize) {
    let all = read_n(conn, n * HELLO_LEN);
    for one in all.as_bytes().chunks(HELLO_LEN) {
        assert_hello(std::str::from_utf8(one).unwrap());
    }
}

fn assert_hello(one: &str) {
    assert!(one.len() == HELLO_LEN, "{one:?}");
    assert!(one.starts_with(HELLO_HEAD), "{one:?}");
    assert!(one.ends_with(HELLO_TAIL), "{one:?}");
    assert!(
        one[HELLO_HEAD.len()..].starts_with(|c: char| c.is_ascii_uppercase())
            && one.contains(" GMT\r\n"),
        "{one:?}"
    );
}

fn runtime() -> goro::Runtime {
    goro::Runtime::builder().procs(2).build().unwrap()
}

fn start(serve: fn(TcpListener) -> std::io::Result<()>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go!(move || serve(listener));
    addr
}

fn read_n(conn: &mut TcpStream, n: usize) -> String {
    let mut buf = vec![0u8; n];
    conn.read_exact(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn http_keep_alive_and_pipelining() {
    runtime().run(|| {
        let addr = start(http_hello::serve);
        let mut conn = TcpStream::connect(addr).unwrap();
        for _ in 0..3 {
            conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            read_hellos(&mut conn, 1);
        }
        // Three pipelined requests (one with a body), split mid-request.
        let reqs = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\n\r\n";
        let (first, second) = reqs.split_at(40);
        conn.write_all(first.as_bytes()).unwrap();
        goro::time::sleep(Duration::from_millis(5));
        conn.write_all(second.as_bytes()).unwrap();
        read_hellos(&mut conn, 3);
        // Connection: close ends it after the response.
        conn.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut rest = String::new();
        conn.read_to_string(&mut rest).unwrap();
        assert_hello(&rest);
    });
}

#[test]
fn http_bad_request_gets_400_and_close() {
    runtime().run(|| {
        let addr = start(http_hello::serve);
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
            .unwrap();
        let mut rest = String::new();
        conn.read_to_string(&mut rest).unwrap();
        assert!(rest.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{rest}");
    });
}

#[test]
fn http_many_clients() {
    runtime().run(|| {
        let addr = start(http_hello::serve);
        let clients: Vec<_> = (0..300)
            .map(|_| {
                goro::go!(move || {
                    let mut conn = TcpStream::connect(addr).unwrap();
                    for _ in 0..10 {
                        conn.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
                        read_hellos(&mut conn, 1);
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    });
}

#[test]
fn chat_lines_reach_every_other_client() {
    runtime().run(|| {
        let addr = start(chat::serve);
        let mut speaker = TcpStream::connect(addr).unwrap();
        let me = speaker.local_addr().unwrap();
        // The speaker keeps talking until both listeners have heard a line
        // (a line sent before a client joined does not reach it); after
        // that, every line reaches both.
        let (heard_tx, heard_rx) = goro::chan::<()>(2);
        let listeners: Vec<_> = (0..2)
            .map(|_| {
                let conn = TcpStream::connect(addr).unwrap();
                let heard_tx = heard_tx.clone();
                goro::go!(move || {
                    let mut lines = BufReader::new(conn).lines();
                    let mut first = true;
                    loop {
                        let line = lines.next().unwrap().unwrap();
                        if line.ends_with(": final") {
                            return line;
                        }
                        assert_eq!(line, format!("{me}: warmup"));
                        if std::mem::take(&mut first) {
                            heard_tx.send(()).unwrap();
                        }
                    }
                })
            })
            .collect();
        let done = Arc::new(AtomicBool::new(false));
        let chatter = {
            let (mut out, done) = (speaker.try_clone().unwrap(), done.clone());
            goro::go!(move || {
                while !done.load(Ordering::SeqCst) {
                    out.write_all(b"warmup\n").unwrap();
                    goro::time::sleep(Duration::from_millis(2));
                }
            })
        };
        heard_rx.recv().unwrap();
        heard_rx.recv().unwrap();
        done.store(true, Ordering::SeqCst);
        chatter.join().unwrap();
        speaker.write_all(b"final\n").unwrap();
        for l in listeners {
            assert_eq!(l.join().unwrap(), format!("{me}: final"));
        }
    });
}
