//! Behaviour that ends a process: stack overflow in a goroutine, overflow
//! of a plain thread next to goro's handler, and panic reports. Each case
//! runs in a child process (this test binary re-executed).

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

const CHILD: &str = "GORO_TEST_CHILD";

/// Runs the test `name` of this binary in a child with `CHILD=case` and
/// the extra environment `env`.
fn run_child_with(name: &str, case: &str, env: &[(&str, &str)]) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn run_child(name: &str, case: &str) -> Output {
    run_child_with(name, case, &[])
}

fn child_case() -> Option<String> {
    std::env::var(CHILD).ok()
}

/// Recurses until the stack overflows (on purpose).
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let frame = [n; 64];
    std::hint::black_box(&frame);
    recurse(n + 1) + frame[3]
}

#[test]
fn goroutine_stack_overflow_names_the_goroutine_and_aborts() {
    if child_case().as_deref() == Some("overflow") {
        goro::run(|| {
            let h = goro::go!(|| recurse(0));
            let _ = h.join();
        });
        unreachable!("the overflow must abort the process");
    }
    let out = run_child(
        "goroutine_stack_overflow_names_the_goroutine_and_aborts",
        "overflow",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "stderr: {stderr}");
    assert!(
        stderr.contains("stack overflow (stack limit"),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("spawned at tests/child_processes.rs"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("raise GORO_STACK_SIZE"), "stderr: {stderr}");
}

#[test]
fn plain_thread_overflow_still_gets_std_message() {
    if child_case().as_deref() == Some("thread-overflow") {
        goro::run(|| ());
        let t = std::thread::Builder::new()
            .name("plain-thread".into())
            .stack_size(64 << 10)
            .spawn(|| recurse(0))
            .unwrap();
        let _ = t.join();
        unreachable!("the overflow must abort the process");
    }
    let out = run_child(
        "plain_thread_overflow_still_gets_std_message",
        "thread-overflow",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.signal().is_some(), "stderr: {stderr}");
    assert!(
        stderr.contains("has overflowed its stack"),
        "stderr: {stderr}"
    );
}

#[test]
fn goroutine_panic_report_names_the_goroutine() {
    if child_case().as_deref() == Some("panic") {
        goro::run(|| {
            let h = goro::go!(|| panic!("worker exploded"));
            assert!(h.join().is_err());
        });
        return;
    }
    let out = run_child("goroutine_panic_report_names_the_goroutine", "panic");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains("goroutine 2 (spawned at tests/child_processes.rs:"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("worker exploded"), "stderr: {stderr}");
}

#[test]
fn bad_environment_values_are_reported_once_and_ignored() {
    if child_case().as_deref() == Some("env") {
        let procs = goro::run(goro::gomaxprocs);
        let procs2 = goro::run(goro::gomaxprocs);
        assert_eq!(procs, procs2);
        assert_eq!(procs, goro::runtime_info().default_procs);
        return;
    }
    for bad in ["0", "-3", "abc", "99999999999"] {
        let out = run_child_with(
            "bad_environment_values_are_reported_once_and_ignored",
            "env",
            &[("GOMAXPROCS", bad), ("GORO_STACK_SIZE", "12 bananas")],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "GOMAXPROCS={bad}: {stderr}");
        assert_eq!(stderr.matches("ignoring GOMAXPROCS").count(), 1, "{stderr}");
        assert_eq!(
            stderr.matches("ignoring GORO_STACK_SIZE").count(),
            1,
            "{stderr}"
        );
    }
}
