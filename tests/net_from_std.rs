//! `goro::net` types to and from std's sockets and raw descriptors (what
//! systemd socket activation and fd-passing libraries need).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use goro::net::{TcpListener, TcpStream, UdpSocket, UnixStream};

fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: F_GETFL on an fd the caller holds open.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0);
    flags & libc::O_NONBLOCK != 0
}

#[test]
fn a_blocking_std_listener_is_taken_over_and_given_back() {
    goro::run(|| {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!is_nonblocking(&std_listener));
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert!(is_nonblocking(&listener));
        let addr = listener.local_addr().unwrap();
        let client = goro::go!(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).unwrap();
            buf
        });
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(b"pong").unwrap();
        assert_eq!(&buf, b"ping");
        assert_eq!(&client.join().unwrap(), b"pong");

        // Back to std: blocking again and still listening.
        let std_listener = listener.into_std().unwrap();
        assert!(!is_nonblocking(&std_listener));
        let std_conn = conn.into_std().unwrap();
        assert!(!is_nonblocking(&std_conn));
        assert_eq!(std_listener.local_addr().unwrap(), addr);
    });
}

#[test]
fn raw_fds_round_trip_like_socket_activation() {
    goro::run(|| {
        // A listening fd handed over by number, as systemd's LISTEN_FDS.
        let fd = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .into_raw_fd();
        // SAFETY: `fd` is an open listening socket nobody else owns.
        let listener = unsafe { TcpListener::from_raw_fd(fd) };
        assert!(is_nonblocking(&listener));
        let addr = listener.local_addr().unwrap();
        let h = goro::go!(move || TcpStream::connect(addr).unwrap().write_all(b"x").unwrap());
        let (mut conn, _) = listener.accept().unwrap();
        let mut b = [0u8; 1];
        conn.read_exact(&mut b).unwrap();
        h.join().unwrap();

        let raw = listener.into_raw_fd();
        // SAFETY: `raw` came from into_raw_fd: open, and now ours.
        let back = unsafe { std::net::TcpListener::from_raw_fd(raw) };
        assert!(!is_nonblocking(&back));

        // OwnedFd -> goro types.
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (mut a, mut b) = (
            UnixStream::from(OwnedFd::from(a)),
            UnixStream::from(OwnedFd::from(b)),
        );
        let reader = goro::go!(move || {
            let mut s = String::new();
            b.read_to_string(&mut s).unwrap();
            s
        });
        a.write_all(b"over a pair").unwrap();
        drop(a);
        assert_eq!(reader.join().unwrap(), "over a pair");

        let udp = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let me = udp.local_addr().unwrap();
        udp.send_to(b"dgram", me).unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = udp.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"dgram"[..], me));
    });
}
