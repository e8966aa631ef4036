//! The held-thread report (`GODEBUG=blockedthread`): a goroutine that keeps
//! its thread outside the runtime while goroutines wait for that thread is
//! reported once per spawn site, with its stack; one computing alone is not.
//! Each case runs in a child process (this test binary re-executed), since
//! `GODEBUG` is read once per process and the report goes to stderr.

use std::time::Duration;

mod common;

use common::child::{child_case, run_child};

/// Holds the calling thread the way a call outside goro does.
#[inline(never)]
fn hold_the_thread(d: Duration) {
    std::thread::sleep(d);
}

/// Goroutines homed on this M (`spawn_local`) that wake every millisecond,
/// then the main goroutine holds the thread twice from the same site.
fn ticking_neighbours_then_hold() {
    goro::Runtime::builder().procs(2).build().unwrap().run(|| {
        let ticks: Vec<_> = (0..16)
            .map(|_| {
                goro::spawn_local(|| {
                    for _ in 0..2_000 {
                        goro::time::sleep(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        goro::time::sleep(Duration::from_millis(5));
        for _ in 0..2 {
            hold_the_thread(Duration::from_millis(400));
            goro::time::sleep(Duration::from_millis(5));
        }
        drop(ticks);
    });
}

fn reports(stderr: &str) -> usize {
    stderr.matches("has held its thread").count()
}

#[test]
fn a_goroutine_sleeping_in_std_while_others_wait_is_reported_once_with_its_stack() {
    if child_case().is_some() {
        return ticking_neighbours_then_hold();
    }
    let out = run_child(
        "a_goroutine_sleeping_in_std_while_others_wait_is_reported_once_with_its_stack",
        &[("GODEBUG", "blockedthread=50")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(reports(&stderr), 1, "stderr: {stderr}");
    assert!(
        stderr.contains("goroutine 1 has held its thread (M0)"),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("goroutines wait for that thread"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("started at"), "stderr: {stderr}");
    assert!(
        stderr.contains("held_thread::hold_the_thread(...)"),
        "the function holding the thread must appear; stderr: {stderr}"
    );
    assert!(stderr.contains("goro::blocking"), "stderr: {stderr}");
}

#[test]
fn blockedthread_0_turns_the_report_off() {
    if child_case().is_some() {
        return ticking_neighbours_then_hold();
    }
    let out = run_child(
        "blockedthread_0_turns_the_report_off",
        &[("GODEBUG", "blockedthread=0")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(reports(&stderr), 0, "stderr: {stderr}");
}

#[test]
fn a_goroutine_computing_alone_on_its_m_is_not_reported() {
    if child_case().is_some() {
        goro::Runtime::builder().procs(1).build().unwrap().run(|| {
            // Main parks in join: nothing is queued for the thread while
            // the goroutine computes.
            let h = goro::go!(|| {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                while start.elapsed() < Duration::from_millis(300) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                x
            });
            h.join().unwrap();
        });
        return;
    }
    let out = run_child(
        "a_goroutine_computing_alone_on_its_m_is_not_reported",
        &[("GODEBUG", "blockedthread=50")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(reports(&stderr), 0, "stderr: {stderr}");
}
