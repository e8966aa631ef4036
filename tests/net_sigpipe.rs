//! Writing to a stream whose peer is gone fails with an error instead of
//! killing the process with SIGPIPE, even where SIGPIPE has its default
//! action (Rust programs ignore it, but a library cannot count on that: an
//! embedding C program or a `#[unix_sigpipe]` setting may restore it).
//! goro's stream writes pass `MSG_NOSIGNAL` (runtime/src/net/fd.rs). Its own
//! test binary, because it changes a process-wide signal disposition.

use std::io::{ErrorKind, Write};

use goro::net::{TcpListener, TcpStream, UnixStream};

/// Writes to `stream` until the write fails; returns the error.
fn write_until_error(mut stream: impl Write) -> std::io::Error {
    let chunk = [7u8; 4096];
    for _ in 0..10_000 {
        if let Err(e) = stream.write_all(&chunk) {
            return e;
        }
    }
    panic!("40 MB written to a closed peer without an error");
}

#[test]
fn writing_to_a_closed_peer_is_an_error_even_with_default_sigpipe() {
    // SAFETY: restores the default disposition of one signal; no handler
    // is involved, and this binary runs no other test that writes.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
    goro::Runtime::builder().procs(1).build().unwrap().run(|| {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        assert_eq!(write_until_error(&a).kind(), ErrorKind::BrokenPipe);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        drop(listener.accept().unwrap());
        let kind = write_until_error(&client).kind();
        assert!(
            matches!(kind, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
            "{kind:?}"
        );
    });
}
