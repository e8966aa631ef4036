//! `goro::net` over loopback: the echo example under load, half-close and
//! reset, deadlines, a reader and a writer on one stream, plain-thread use,
//! and a connect/close loop that must never lose a wake-up.

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::net::{TcpListener, TcpStream};
use goro::Runtime;

fn runtime(procs: usize) -> Runtime {
    Runtime::builder().procs(procs).build().unwrap()
}

/// Starts the echo example's server; returns its address.
fn start_echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go!(move || echo::serve(listener));
    addr
}

/// A cheap deterministic payload generator (xorshift).
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `data` in chunks of varying size and checks the echo byte for byte.
fn echo_round_trip(addr: SocketAddr, data: &[u8]) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_nodelay(true).unwrap();
    let mut got = vec![0u8; data.len()];
    for chunk in data.chunks(1 + data.len() / 3) {
        conn.write_all(chunk).unwrap();
    }
    conn.read_exact(&mut got).unwrap();
    assert!(got == data, "echo differs");
    conn.shutdown(Shutdown::Write).unwrap();
    assert_eq!(conn.read(&mut [0u8; 1]).unwrap(), 0, "EOF after half-close");
}

fn many_connections(procs: usize, n: u64) {
    runtime(procs).run(move || {
        let addr = start_echo();
        let clients: Vec<_> = (0..n)
            .map(|i| {
                goro::go!(move || echo_round_trip(
                    addr,
                    &payload(i, 64 + (i as usize * 97) % 20_000)
                ))
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    });
}

#[test]
fn thousands_of_connections_gomaxprocs_1() {
    many_connections(1, 2000);
}

#[test]
fn thousands_of_connections_gomaxprocs_2() {
    many_connections(2, 2000);
}

#[test]
fn reset_by_peer_is_an_error_not_a_hang() {
    runtime(2).run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = goro::go!(move || {
            let conn = TcpStream::connect(addr).unwrap();
            conn.write_all_ref(b"x");
            // SO_LINGER 0: close sends a RST.
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid option value for a socket we own.
            let r = unsafe {
                libc::setsockopt(
                    std::os::fd::AsRawFd::as_raw_fd(&conn),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as u32,
                )
            };
            assert_eq!(r, 0);
        });
        let (mut conn, _) = listener.accept().unwrap();
        client.join().unwrap();
        let mut buf = [0u8; 16];
        let mut total = 0;
        let err = loop {
            match conn.read(&mut buf) {
                Ok(0) => panic!("a reset must not read as a clean EOF"),
                Ok(n) => total += n,
                Err(e) => break e,
            }
        };
        assert!(total <= 1);
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

trait WriteAllRef {
    fn write_all_ref(&self, buf: &[u8]);
}

impl WriteAllRef for TcpStream {
    fn write_all_ref(&self, buf: &[u8]) {
        let mut me = self;
        me.write_all(buf).unwrap();
    }
}

#[test]
fn read_and_write_timeouts_fail_with_would_block() {
    runtime(2).run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut conn = TcpStream::connect(addr).unwrap();
        let (_server, _) = listener.accept().unwrap();
        assert_eq!(
            conn.set_read_timeout(Some(Duration::ZERO))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        conn.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        assert_eq!(
            conn.read_timeout().unwrap(),
            Some(Duration::from_millis(50))
        );
        let start = Instant::now();
        let err = conn.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert!(start.elapsed() >= Duration::from_millis(50));
        // Nobody reads on the other side: writes fill the buffers, then time out.
        conn.set_write_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let err = loop {
            if let Err(e) = conn.write(&chunk) {
                break e;
            }
        };
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        // The timeout does not break the stream: it still works after.
        conn.set_read_timeout(None).unwrap();
        assert_eq!(conn.read_timeout().unwrap(), None);
    });
}

#[test]
fn a_reader_and_a_writer_goroutine_share_one_stream() {
    runtime(2).run(|| {
        let addr = start_echo();
        let conn = Arc::new(TcpStream::connect(addr).unwrap());
        let data = Arc::new(payload(7, 4 << 20));
        let writer = {
            let (conn, data) = (conn.clone(), data.clone());
            goro::go!(move || {
                (&*conn).write_all(&data).unwrap();
                conn.shutdown(Shutdown::Write).unwrap();
            })
        };
        let mut got = Vec::new();
        (&*conn).read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert!(got == *data);
    });
}

#[test]
fn try_clone_reads_what_the_original_wrote_back() {
    runtime(1).run(|| {
        let addr = start_echo();
        let mut a = TcpStream::connect(addr).unwrap();
        let mut b = a.try_clone().unwrap();
        a.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        assert_eq!(a.peer_addr().unwrap(), addr);
    });
}

#[test]
fn plain_threads_use_the_same_types_by_blocking() {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        runtime(1).run(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let (conn, _) = listener.accept().unwrap();
            echo::handle(conn).unwrap();
        })
    });
    let addr = rx.recv().unwrap();
    echo_round_trip(addr, &payload(3, 100_000));
    server.join().unwrap();
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    runtime(1).run(|| {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

/// Every address form std accepts works: a host name (looked up on a
/// `blocking` helper; `localhost` may give `::1` first, which refuses, so
/// the next address is tried), IP literals as strings and pairs, a slice.
#[test]
fn host_names_and_literal_addresses_connect() {
    runtime(1).run(|| {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port();
        let accepter = goro::go!(move || {
            for _ in 0..5 {
                drop(listener.accept().unwrap());
            }
        });
        TcpStream::connect(format!("localhost:{port}")).unwrap();
        TcpStream::connect(("localhost", port)).unwrap();
        TcpStream::connect(format!("127.0.0.1:{port}").as_str()).unwrap();
        TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port)).unwrap();
        TcpStream::connect(&[addr][..]).unwrap();
        accepter.join().unwrap();
        let err = TcpStream::connect("no port").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

/// Connections opened, used and closed in a loop for 10 s
/// (`GORO_NET_STRESS_SECS` to change it): a lost wake-up hangs it.
#[test]
fn open_close_loop_loses_no_wake_up() {
    let secs = std::env::var("GORO_NET_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    runtime(2).run(move || {
        let addr = start_echo();
        let end = Instant::now() + Duration::from_secs(secs);
        let workers: Vec<_> = (0..8u64)
            .map(|w| {
                goro::go!(move || {
                    let mut i = 0;
                    while Instant::now() < end {
                        echo_round_trip(addr, &payload(w * 1_000_003 + i, 1 + (i as usize % 300)));
                        i += 1;
                    }
                    i
                })
            })
            .collect();
        let total: u64 = workers.into_iter().map(|h| h.join().unwrap()).sum();
        assert!(total > 100, "only {total} round trips");
    });
}

#[test]
fn udp_round_trips() {
    runtime(2).run(|| {
        let server = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let echo = goro::go!(move || {
            let mut buf = [0u8; 1500];
            for _ in 0..100 {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                server.send_to(&buf[..n], from).unwrap();
            }
        });
        let client = goro::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        for i in 0..100u64 {
            let msg = payload(i, 1 + i as usize * 13);
            client.send(&msg).unwrap();
            let mut buf = [0u8; 1500];
            let n = client.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &msg[..]);
        }
        echo.join().unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let err = client.recv(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
    });
}

#[test]
fn unix_streams_echo_and_pair() {
    let dir = std::env::temp_dir().join(format!("goro-net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    runtime(2).run(move || {
        let listener = goro::net::UnixListener::bind(&path).unwrap();
        let server = goro::go!(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            conn.read_to_end(&mut buf).unwrap();
            conn.write_all(&buf).unwrap();
        });
        let mut conn = goro::net::UnixStream::connect(&path).unwrap();
        let data = payload(11, 300_000);
        let writer = {
            let mut w = conn.try_clone().unwrap();
            let data = data.clone();
            goro::go!(move || {
                w.write_all(&data).unwrap();
                w.shutdown(Shutdown::Write).unwrap();
            })
        };
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        server.join().unwrap();
        assert!(got == data);

        let (mut a, mut b) = goro::net::UnixStream::pair().unwrap();
        let t = goro::go!(move || {
            let mut buf = [0u8; 4];
            b.read_exact(&mut buf).unwrap();
            b.write_all(&buf).unwrap();
        });
        a.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        a.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        t.join().unwrap();
        std::fs::remove_file(&path).unwrap();
    });
}

/// A Unix connect fails with `EAGAIN` while the listener's backlog is full;
/// `UnixStream::connect` then waits for room (as std's does) instead of
/// failing. The listener here has a backlog of 1 (two pending connections)
/// and accepts only after the clients have piled up.
#[test]
fn unix_connect_waits_while_the_backlog_is_full() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::FromRawFd;
    const CLIENTS: u8 = 6;
    let dir = std::env::temp_dir().join(format!("goro-net-backlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("full.sock");
    let _ = std::fs::remove_file(&path);
    // SAFETY: plain system calls on a socket this test owns; the address
    // is a zeroed sockaddr_un with a NUL-terminated path shorter than
    // sun_path.
    let listener = unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        let mut sun: libc::sockaddr_un = std::mem::zeroed();
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, &b) in sun.sun_path.iter_mut().zip(path.as_os_str().as_bytes()) {
            *d = b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, (&sun as *const libc::sockaddr_un).cast(), len),
            0
        );
        assert_eq!(libc::listen(fd, 1), 0);
        std::os::unix::net::UnixListener::from_raw_fd(fd)
    };
    let acceptor = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut seen: Vec<u8> = (0..CLIENTS)
            .map(|_| {
                let (mut conn, _) = listener.accept().unwrap();
                let mut id = [0u8];
                conn.read_exact(&mut id).unwrap();
                id[0]
            })
            .collect();
        seen.sort_unstable();
        seen
    });
    let connect_path = path.clone();
    runtime(2).run(move || {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let path = connect_path.clone();
                goro::go!(move || {
                    let mut conn = goro::net::UnixStream::connect(&path).unwrap();
                    conn.write_all(&[id]).unwrap();
                    conn
                })
            })
            .collect();
        let conns: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(conns.len(), usize::from(CLIENTS));
    });
    assert_eq!(acceptor.join().unwrap(), (0..CLIENTS).collect::<Vec<_>>());
    std::fs::remove_file(&path).unwrap();
}

/// A short read drains the receive queue, so the next read waits for an
/// event first (runtime/src/net/fd.rs); end of stream that arrived with the
/// data was reported by the one edge-triggered event already, and must
/// still be seen rather than waited for (a timeout turns a hang into a
/// failure here).
#[test]
fn end_of_stream_right_after_a_short_read_is_not_missed() {
    runtime(2).run(|| {
        let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..20 {
            let mut client = goro::net::TcpStream::connect(addr).unwrap();
            let (mut server, _) = listener.accept().unwrap();
            server
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            // The reader parks first, so the wake-up consumes the ready bit
            // and the data and the end of stream come in one event.
            let reader = goro::go!(move || {
                let mut buf = [0u8; 64];
                let n = server.read(&mut buf).unwrap();
                assert!(n > 0 && n < buf.len());
                server.read(&mut buf)
            });
            goro::time::sleep(Duration::from_millis(2));
            client.write_all(b"last").unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let end = reader.join().unwrap();
            assert_eq!(end.expect("end of stream, not a timeout"), 0);
        }
    });
}

#[test]
fn accept_loop_ends_when_its_context_is_cancelled() {
    runtime(2).run(|| {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = listener.local_addr().unwrap();
        let (ctx, cancel) = goro::context::with_cancel(&goro::context::background());
        let server = {
            let listener = listener.clone();
            goro::go!(move || {
                let mut served = 0;
                loop {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            served += 1;
                            goro::go!(move || echo::handle(conn));
                        }
                        Err(e) => return (served, e.kind()),
                    }
                }
            })
        };
        {
            let listener = listener.clone();
            goro::go!(move || {
                let _ = ctx.done().recv();
                listener.shutdown().unwrap();
            });
        }
        echo_round_trip(addr, b"before cancel");
        cancel.cancel();
        let (served, kind) = server.join().unwrap();
        assert_eq!(served, 1);
        assert_eq!(kind, ErrorKind::InvalidInput);
    });
}

#[test]
fn a_goroutine_busy_on_ready_sockets_does_not_starve_a_ticker() {
    runtime(1).run(|| {
        let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let ticker = {
            let ticks = ticks.clone();
            goro::go!(move || {
                let t = goro::time::Ticker::new(Duration::from_millis(5));
                for _ in 0..5 {
                    t.chan().recv().unwrap();
                    ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        };
        // Socket calls that never block: only the net calls' preemption
        // points give the P back.
        let (mut a, mut b) = goro::net::UnixStream::pair().unwrap();
        let start = Instant::now();
        while ticks.load(std::sync::atomic::Ordering::SeqCst) < 5 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the ticker starved"
            );
            a.write_all(&[1u8; 64]).unwrap();
            b.read_exact(&mut [0u8; 64]).unwrap();
        }
        ticker.join().unwrap();
    });
}
