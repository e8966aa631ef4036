//! Behaviour that ends a process: stack overflow in a goroutine, overflow
//! of a plain thread next to goro's handler, and panic reports. Each case
//! runs in a child process (this test binary re-executed).

use std::os::unix::process::ExitStatusExt;

mod common;

use common::child::{child_case, run_child_case};

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
    let out = run_child_case(
        "goroutine_stack_overflow_names_the_goroutine_and_aborts",
        "overflow",
        &[],
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
    let out = run_child_case(
        "plain_thread_overflow_still_gets_std_message",
        "thread-overflow",
        &[],
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
    let out = run_child_case("goroutine_panic_report_names_the_goroutine", "panic", &[]);
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
        let out = run_child_case(
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

#[test]
fn an_unhandled_panic_exits_2_when_asked_as_go_does() {
    const NAME: &str = "an_unhandled_panic_exits_2_when_asked_as_go_does";
    if let Some(case) = child_case() {
        let policy = match case.as_str() {
            "exit" => goro::UnhandledPanic::Exit,
            _ => goro::UnhandledPanic::Ignore,
        };
        let rt = goro::Runtime::builder()
            .unhandled_panic(policy)
            .build()
            .unwrap();
        rt.run(|| {
            // Nobody joins it.
            drop(goro::go!(|| panic!("worker failed")));
            goro::time::sleep(std::time::Duration::from_millis(200));
            println!("main went on");
        });
        return;
    }
    let exit = run_child_case(NAME, "exit", &[]);
    let stderr = String::from_utf8_lossy(&exit.stderr);
    assert_eq!(exit.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("worker failed"), "stderr: {stderr}");
    assert!(stderr.contains("exit status 2"), "stderr: {stderr}");
    assert!(!String::from_utf8_lossy(&exit.stdout).contains("main went on"));

    let ignore = run_child_case(NAME, "ignore", &[]);
    let stderr = String::from_utf8_lossy(&ignore.stderr);
    assert!(ignore.status.success(), "stderr: {stderr}");
    assert!(stderr.contains("worker failed"), "stderr: {stderr}");
    assert!(String::from_utf8_lossy(&ignore.stdout).contains("main went on"));
}

/// The end of `main` is invisible to goroutines and leaves stderr clean:
/// 100 goroutines doing request/response with an owner goroutine, with
/// 1 ms sleeps, while `main` returns after 100 ms (a program that printed
/// `SendError` panics at exit in 3 of 100 runs before the fix). Goroutines
/// that catch panics and abort (a supervisor idiom) let the runtime's own
/// unwind through with `goro::forced_unwind_in_progress`.
#[test]
fn the_end_of_main_leaves_stderr_clean() {
    const NAME: &str = "the_end_of_main_leaves_stderr_clean";
    if child_case().is_some() {
        use std::time::Duration;
        for _ in 0..10 {
            goro::run(|| {
                let (req_tx, req_rx) = goro::chan::<(u64, goro::Sender<u64>)>(0);
                goro::go!(move || {
                    for (n, reply) in &req_rx {
                        reply.send(n + 1).unwrap();
                    }
                });
                for i in 0..100u64 {
                    let req_tx = req_tx.clone();
                    goro::go!(move || {
                        let supervised = std::panic::catch_unwind(move || loop {
                            let (tx, rx) = goro::chan(0);
                            req_tx.send((i, tx)).unwrap();
                            assert_eq!(rx.recv().unwrap(), i + 1);
                            goro::time::sleep(Duration::from_millis(1));
                        });
                        if let Err(payload) = supervised {
                            if goro::forced_unwind_in_progress() {
                                std::panic::resume_unwind(payload);
                            }
                            eprintln!("supervisor: a worker failed");
                            std::process::abort();
                        }
                    });
                }
                goro::time::sleep(Duration::from_millis(100));
            });
        }
        return;
    }
    let out = run_child_case(NAME, "run", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(stderr, "", "the exit printed something");
}
