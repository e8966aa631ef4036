//! What idle Ms spend to save wake-ups (`sched/idle.rs`): an M watches its
//! home queue only for goroutines that partners on other threads readied
//! lately, and spins in full only while another M is awake and its recent
//! spins stole work. Checked through the counts `runtime_info()` reports
//! (`full_spins`, `home_watches`), not through timing.

use std::io::{Read, Write};
use std::time::Duration;

use goro::net::{TcpListener, TcpStream};
use goro::{GoBuilder, Placement};

const ROUND_TRIPS: usize = 2000;

fn spread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> goro::JoinHandle<T> {
    GoBuilder::new()
        .placement(Placement::Spread)
        .spawn(f)
        .unwrap()
}

#[test]
fn a_partner_on_another_m_is_watched_for() {
    let info = goro::Runtime::builder().procs(2).build().unwrap().run(|| {
        let (ping_tx, ping_rx) = goro::chan::<usize>(0);
        let (pong_tx, pong_rx) = goro::chan::<usize>(0);
        // Spread: the first goes to the other P, the second to this one,
        // so every hand-off readies a goroutine of the other M.
        let a = spread(move || {
            for i in 0..ROUND_TRIPS {
                ping_tx.send(i).unwrap();
                assert_eq!(pong_rx.recv().unwrap(), i);
            }
            std::thread::current().id()
        });
        let b = spread(move || {
            for _ in 0..ROUND_TRIPS {
                pong_tx.send(ping_rx.recv().unwrap()).unwrap();
            }
            std::thread::current().id()
        });
        assert_ne!(a.join().unwrap(), b.join().unwrap(), "not on two Ms");
        goro::runtime_info()
    });
    assert!(
        info.home_watches >= ROUND_TRIPS as u64 / 20,
        "{} home watches over {ROUND_TRIPS} cross-M round trips",
        info.home_watches
    );
}

#[test]
fn goroutines_waiting_for_io_and_timers_are_not_watched_for() {
    let info = goro::Runtime::builder().procs(2).build().unwrap().run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spread(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut byte = [0u8; 1];
            while conn.read(&mut byte).unwrap() == 1 {
                conn.write_all(&byte).unwrap();
            }
        });
        let ticker = spread(|| {
            for _ in 0..50 {
                goro::time::sleep(Duration::from_millis(1));
            }
        });
        let client = spread(move || {
            let mut conn = TcpStream::connect(addr).unwrap();
            let mut byte = [0u8; 1];
            for i in 0..ROUND_TRIPS {
                conn.write_all(&[i as u8]).unwrap();
                conn.read_exact(&mut byte).unwrap();
                assert_eq!(byte[0], i as u8);
            }
        });
        client.join().unwrap();
        server.join().unwrap();
        ticker.join().unwrap();
        goro::runtime_info()
    });
    // The joins at the end are the only goroutine-to-goroutine wake-ups:
    // each lets its M watch for a few idle periods at most.
    assert!(
        info.home_watches <= 40,
        "{} home watches for goroutines woken by the poller and timers",
        info.home_watches
    );
}

#[test]
fn one_p_never_spins_in_full() {
    let info = goro::Runtime::builder().procs(1).build().unwrap().run(|| {
        let sleepers: Vec<_> = (0..20)
            .map(|_| {
                goro::go!(|| {
                    for _ in 0..20 {
                        goro::time::sleep(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for s in sleepers {
            s.join().unwrap();
        }
        goro::runtime_info()
    });
    // Nobody else could spawn work to steal.
    assert_eq!(info.full_spins, 0);
}
