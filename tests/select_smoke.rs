//! Smoke checks of select! and time while the full suites land.
use goro::{chan, select};
use std::time::{Duration, Instant};

#[test]
fn smoke() {
    for procs in [1, 2] {
        goro::Runtime::builder()
            .procs(procs)
            .build()
            .unwrap()
            .run(|| {
                let (tx, rx) = chan::<i32>(0);
                let (tx2, rx2) = chan::<i32>(1);
                goro::go!(move || {
                    tx.send(5).unwrap();
                });
                let got = select! {
                    recv(rx) -> v => v.unwrap(),
                    recv(rx2) -> v => v.unwrap() + 100,
                };
                assert_eq!(got, 5);
                let r = select! {
                    send(tx2, 7) -> r => { r.unwrap(); 1 }
                    default => 2,
                };
                assert_eq!(r, 1);
                let r = select! { send(tx2, 8) -> _r => 1, default => 2 };
                assert_eq!(r, 2);
                let t0 = Instant::now();
                goro::time::sleep(Duration::from_millis(20));
                assert!(t0.elapsed() >= Duration::from_millis(20));
                let t0 = Instant::now();
                let (_keep, idle) = chan::<i32>(0);
                let r = select! {
                    recv(goro::time::after(Duration::from_millis(30))) -> _ => 1,
                    recv(idle) -> _ => 2,
                };
                assert_eq!(r, 1);
                assert!(t0.elapsed() >= Duration::from_millis(30));
                let r = select! { recv(idle) -> _ => 1, default(Duration::from_millis(10)) => 2 };
                assert_eq!(r, 2);
                assert_eq!(
                    rx.recv_timeout(Duration::from_millis(5)),
                    Err(goro::RecvTimeoutError::Disconnected)
                );
                let (_t3, r3) = chan::<i32>(0);
                assert_eq!(
                    r3.recv_timeout(Duration::from_millis(5)),
                    Err(goro::RecvTimeoutError::Timeout)
                );
                let tk = goro::time::Ticker::new(Duration::from_millis(5));
                for _ in 0..5 {
                    tk.chan().recv().unwrap();
                }
                tk.stop();
                let t = goro::time::Timer::new(Duration::from_millis(5));
                assert!(t.stop());
                assert!(t.chan().recv_timeout(Duration::from_millis(20)).is_err());
                let hs: Vec<_> = (0..1000)
                    .map(|i| {
                        goro::go!(move || goro::time::sleep(Duration::from_millis(1 + i % 10)))
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
            });
    }
}
