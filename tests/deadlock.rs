//! Deadlock detection on real programs: each case runs in a child process
//! (this binary re-executed) with the runtime on the main thread, as in a
//! real program. This binary has no test harness (`harness = false`): a
//! harness thread waiting with a timeout would, by design, keep detection
//! silent (docs/observability.md, "Deadlock detection").
//!
//! Deadlocks must end with Go's message, the dump and status 2; programs
//! waiting on a timer, a plain thread or a `blocking` call must not.

use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const CHILD: &str = "GORO_DEADLOCK_CASE";
const MESSAGE: &str = "fatal error: all goroutines are asleep - deadlock!\n\n";

/// A program and what its stderr must contain when it deadlocks (`None`:
/// it must finish normally).
struct Case {
    name: &'static str,
    program: fn(),
    deadlock: Option<&'static [&'static str]>,
}

/// Receives from a channel nobody sends on (named, so that the dump's
/// frames can be checked; `black_box` keeps the call from being a tail call).
#[inline(never)]
fn receive_from_nobody() {
    let (_tx, rx) = goro::chan::<u8>(0);
    std::hint::black_box(rx.recv()).ok();
}

/// Receives, then sends back: a goroutine of a pair waiting for each other.
#[inline(never)]
fn relay(from: goro::Receiver<u8>, to: goro::Sender<u8>) {
    let _ = from.recv();
    let _ = to.send(1);
}

const CASES: &[Case] = &[
    Case {
        name: "main_receives_from_nobody",
        program: || goro::run(receive_from_nobody),
        deadlock: Some(&[
            "goroutine 1 [chan receive]:\ngoro_runtime::chan::",
            "\ndeadlock::receive_from_nobody(...)\n\t/",
            "tests/deadlock.rs:",
            "\ncreated by goro::run\n\ttests/deadlock.rs:",
        ]),
    },
    Case {
        name: "two_goroutines_wait_for_each_other",
        program: || {
            goro::run(|| {
                let (to_a, from_b) = goro::chan::<u8>(0);
                let (to_b, from_a) = goro::chan::<u8>(0);
                let wg = goro::sync::WaitGroup::new();
                wg.go(move || relay(from_b, to_b));
                wg.go(move || relay(from_a, to_a));
                wg.wait();
            })
        },
        deadlock: Some(&[
            "goroutine 1 [sync.WaitGroup.Wait]:\ngoro_runtime::sync::",
            "goroutine 2 [chan receive]:\ngoro_runtime::chan::",
            "goroutine 3 [chan receive]:\ngoro_runtime::chan::",
            "\ndeadlock::relay(...)\n\t/",
            "\ncreated by goro::go in goroutine 1\n\ttests/",
        ]),
    },
    Case {
        name: "a_named_goroutine_shows_its_name",
        program: || {
            goro::run(|| {
                let (_tx, rx) = goro::chan::<u8>(0);
                let h = goro::GoBuilder::new()
                    .name("fetcher")
                    .spawn(move || rx.recv().ok())
                    .unwrap();
                let _ = h.join();
            })
        },
        deadlock: Some(&[
            "goroutine 1 [join]:",
            "goroutine 2 \"fetcher\" [chan receive]:\ngoro_runtime::chan::",
        ]),
    },
    Case {
        name: "two_goroutines_each_wait_for_the_others_mutex",
        program: || {
            goro::run(|| {
                let a = Arc::new(goro::sync::Mutex::new(0u8));
                let b = Arc::new(goro::sync::Mutex::new(0u8));
                // Both hold their first mutex before either asks for the second.
                let both_hold = goro::sync::WaitGroup::new();
                both_hold.add(2);
                let wg = goro::sync::WaitGroup::new();
                for (first, second) in [(a.clone(), b.clone()), (b, a)] {
                    let both_hold = both_hold.clone();
                    wg.go(move || {
                        let _held = first.lock();
                        both_hold.done();
                        both_hold.wait();
                        let _never = second.lock();
                    });
                }
                wg.wait();
            })
        },
        deadlock: Some(&[
            "goroutine 1 [sync.WaitGroup.Wait]:",
            "goroutine 2 [sync.Mutex.Lock]:",
            "goroutine 3 [sync.Mutex.Lock]:",
        ]),
    },
    Case {
        name: "select_with_no_cases_after_a_sleep",
        program: || {
            goro::run(|| {
                goro::time::sleep(Duration::from_millis(50));
                goro::select! {}
            })
        },
        deadlock: Some(&["goroutine 1 [select (no cases)]:"]),
    },
    Case {
        name: "a_plain_thread_blocked_for_good_cannot_help",
        program: || {
            goro::run(|| {
                let (tx, rx) = goro::chan::<u8>(0);
                std::thread::spawn(move || {
                    // Waits forever (nobody notifies), holding the sender.
                    let pair = (Mutex::new(()), Condvar::new());
                    let guard = pair.0.lock().unwrap();
                    let _guard = pair.1.wait(guard);
                    let _ = tx.send(1);
                });
                let _ = rx.recv();
            })
        },
        deadlock: Some(&["goroutine 1 [chan receive]:"]),
    },
    Case {
        name: "sleeping_is_not_a_deadlock",
        program: || {
            goro::run(|| {
                let (tx, rx) = goro::chan::<u8>(0);
                goro::go!(move || rx.recv());
                goro::time::sleep(Duration::from_millis(300));
                drop(tx);
            })
        },
        deadlock: None,
    },
    Case {
        name: "waiting_on_a_sleeping_thread_is_not_a_deadlock",
        program: || {
            goro::run(|| {
                let (tx, rx) = goro::chan::<u8>(0);
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    tx.send(7).unwrap();
                });
                assert_eq!(rx.recv(), Ok(7));
            })
        },
        deadlock: None,
    },
    Case {
        name: "waiting_on_a_thread_that_waits_with_a_timeout_is_not_a_deadlock",
        program: || {
            goro::run(|| {
                let (tx, rx) = goro::chan::<u8>(0);
                std::thread::spawn(move || {
                    let pair = Arc::new((Mutex::new(()), Condvar::new()));
                    let guard = pair.0.lock().unwrap();
                    let _ = pair.1.wait_timeout(guard, Duration::from_millis(300));
                    tx.send(7).unwrap();
                });
                assert_eq!(rx.recv(), Ok(7));
            })
        },
        deadlock: None,
    },
    Case {
        name: "waiting_on_a_blocking_call_is_not_a_deadlock",
        program: || {
            goro::run(|| {
                let v = goro::blocking(|| {
                    std::thread::sleep(Duration::from_millis(300));
                    5
                });
                assert_eq!(v, 5);
            })
        },
        deadlock: None,
    },
    Case {
        name: "waiting_on_a_timer_armed_outside_is_not_a_deadlock",
        program: || {
            let timer = goro::time::Timer::new(Duration::from_millis(300));
            goro::run(move || {
                timer.chan().recv().unwrap();
            })
        },
        deadlock: None,
    },
];

fn main() {
    if let Ok(name) = std::env::var(CHILD) {
        let case = CASES.iter().find(|c| c.name == name).expect("known case");
        (case.program)();
        return;
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for case in CASES {
        if !filter.is_empty() && !filter.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        match check(case) {
            Ok(()) => {
                passed += 1;
                println!("test {} ... ok", case.name);
            }
            Err(why) => {
                failed += 1;
                println!("test {} ... FAILED\n{why}", case.name);
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn check(case: &Case) -> Result<(), String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, case.name)
        .env("GOMAXPROCS", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match case.deadlock {
        Some(expected) => {
            if out.status.code() != Some(2) || !stderr.starts_with(MESSAGE) {
                return Err(format!(
                    "expected a deadlock report, got {:?}:\n{stderr}",
                    out.status
                ));
            }
            match expected.iter().find(|e| !stderr.contains(*e)) {
                Some(missing) => Err(format!("missing {missing:?} in\n{stderr}")),
                None => Ok(()),
            }
        }
        None if out.status.success() && !stderr.contains("deadlock") => Ok(()),
        None => Err(format!(
            "expected a normal exit, got {:?}:\n{stderr}",
            out.status
        )),
    }
}
