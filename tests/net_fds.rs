//! Every socket `goro::net` opens is closed again: the process's open fd
//! count (/proc/self/fd) after a busy echo session equals the count before
//! it. Its own test binary, so no other test opens fds meanwhile.

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo;

use std::io::{Read, Write};
use std::net::Shutdown;

use goro::net::{TcpListener, TcpStream};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn echo_session(conns: usize) {
    goro::Runtime::builder()
        .procs(2)
        .build()
        .unwrap()
        .run(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // The server goroutine is parked in accept when the runtime
            // ends: it is unwound and drops the listener.
            goro::go!(move || echo::serve(listener));
            let clients: Vec<_> = (0..conns)
                .map(|i| {
                    goro::go!(move || {
                        let mut c = TcpStream::connect(addr).unwrap();
                        let msg = vec![i as u8; 64];
                        c.write_all(&msg).unwrap();
                        c.shutdown(Shutdown::Write).unwrap();
                        let mut back = Vec::new();
                        c.read_to_end(&mut back).unwrap();
                        assert_eq!(back, msg);
                    })
                })
                .collect();
            for c in clients {
                c.join().unwrap();
            }
        });
}

#[test]
fn every_socket_is_closed_at_the_end() {
    // The first session creates the process's poller (two fds that stay).
    echo_session(10);
    let before = open_fds();
    echo_session(500);
    assert_eq!(open_fds(), before);
}
