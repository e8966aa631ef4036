//! A small program to look at in a trace viewer (docs/tracing.md):
//!
//! ```text
//! GORO_TRACE=trace.json GOMAXPROCS=2 cargo run --release --example trace_demo
//! python3 docs/trace_svg.py trace.json docs/tracing.svg
//! ```
//!
//! A fork-join burst that keeps both Ms busy (the second M steals), a
//! channel ping-pong (parks and wakes), and sleepers woken by timers.

use std::time::{Duration, Instant};

fn main() {
    goro::run(|| {
        let burst: Vec<_> = (0..16u64)
            .map(|i| {
                goro::go!(move || {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(200) {
                        goro::preempt_point();
                    }
                    i
                })
            })
            .collect();
        let sum: u64 = burst.into_iter().map(|h| h.join().unwrap()).sum();

        let (ping_tx, ping_rx) = goro::chan::<u64>(0);
        let (pong_tx, pong_rx) = goro::chan::<u64>(0);
        let echo = goro::go!(move || {
            for v in &ping_rx {
                pong_tx.send(v * 2).unwrap();
            }
        });
        let mut total = 0;
        for i in 0..20 {
            ping_tx.send(i).unwrap();
            total += pong_rx.recv().unwrap();
        }
        drop(ping_tx);
        echo.join().unwrap();

        let sleepers: Vec<_> = (1..=4u64)
            .map(|i| goro::go!(move || goro::time::sleep(Duration::from_micros(300 * i))))
            .collect();
        sleepers.into_iter().for_each(|h| h.join().unwrap());
        println!("burst sum {sum}, ping-pong total {total}");
    });
}
