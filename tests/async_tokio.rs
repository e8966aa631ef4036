//! `goro::compat::tokio`: goroutines using Tokio's timers, sockets and
//! tasks; Tokio tasks awaiting goroutines while goroutines await Tokio
//! tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::compat::tokio::block_on;

/// 10,000 goroutines on 2 Ms each wait at a Tokio barrier for all the
/// others, then sleep 20 ms with Tokio's timer. The barrier only opens if
/// all 10,000 are parked at once: a bridge that blocked its M could hold
/// 2. The whole run takes a few sleeps, not 10,000 (the bound is a hang
/// guard, 1/20 of the serial time).
#[goro::test(procs = 2)]
fn ten_thousand_goroutines_sleep_on_tokio_timers_at_once() {
    const N: usize = 10_000;
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let barrier = barrier.clone();
            let done = done.clone();
            goro::go!(move || {
                block_on(async {
                    barrier.wait().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                });
                done.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), N);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

/// Tokio tasks await goroutines (JoinHandle is a Future) while goroutines
/// await Tokio tasks, talking over one pair of Tokio channels both ways.
#[goro::test(procs = 2)]
fn tokio_tasks_and_goroutines_await_each_other() {
    let (to_tokio, mut from_goro) = tokio::sync::mpsc::channel::<goro::JoinHandle<u64>>(16);
    let (to_goro, mut from_tokio) = tokio::sync::mpsc::channel::<u64>(16);
    // A Tokio task that awaits the goroutines sent to it and reports.
    let server = goro::go!(move || {
        block_on(async move {
            tokio::spawn(async move {
                let mut sum = 0;
                while let Some(h) = from_goro.recv().await {
                    let v = h.await.unwrap();
                    sum += v;
                    to_goro.send(v * 10).await.unwrap();
                }
                sum
            })
            .await
            .unwrap()
        })
    });
    let mut replies = 0;
    for i in 1..=100u64 {
        let h = goro::go!(move || {
            goro::gosched();
            i
        });
        block_on(to_tokio.send(h)).unwrap();
        replies += block_on(from_tokio.recv()).unwrap();
    }
    drop(to_tokio);
    assert_eq!(replies, 10 * 5050);
    assert_eq!(server.join().unwrap(), 5050);
}

/// Tokio's sockets from goroutines: 20 goroutines talk to a Tokio echo
/// server over loopback.
#[goro::test(procs = 2)]
fn tokio_sockets_from_goroutines() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    goro::go!(move || {
        block_on(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        })
    });
    let handles: Vec<_> = (0..20u8)
        .map(|i| {
            goro::go!(move || {
                block_on(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    let msg = [i; 16];
                    s.write_all(&msg).await.unwrap();
                    let mut back = [0u8; 16];
                    s.read_exact(&mut back).await.unwrap();
                    back == msg
                })
            })
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
}
