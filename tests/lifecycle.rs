//! The runtime's life: repeated runs leak no threads or memory, abandoned
//! goroutines are unwound at exit, and an idle runtime uses no CPU.
//! One test per aspect; they measure the whole process, so they run one
//! at a time through a lock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{cpu_time, status_field, wait_group, DropCounter};

static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn repeated_runs_leak_no_threads_or_memory() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    let work = || {
        let hs: Vec<_> = (0..10_000).map(|i| goro::go!(move || i)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
    };
    rt.run(work);
    let threads = status_field("Threads");
    let rss = status_field("VmRSS");
    for _ in 0..30 {
        assert_eq!(rt.run(work), 49_995_000);
    }
    assert_eq!(status_field("Threads"), threads, "threads leaked");
    let grown = status_field("VmRSS").saturating_sub(rss);
    assert!(grown < 8 << 10, "RSS grew by {grown} KiB over 30 runs");
}

#[test]
fn abandoned_goroutines_are_unwound_when_run_returns() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let handles = goro::run(move || {
        let never = wait_group(1);
        (0..100)
            .map(|_| {
                let guard = DropCounter(d.clone());
                let never = never.clone();
                goro::go!(move || {
                    let _guard = guard;
                    never.wait();
                })
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        100,
        "destructors of abandoned goroutines did not run"
    );
    for h in handles {
        let err = h.join().unwrap_err();
        assert!(err.message().unwrap().contains("abandoned"), "{err}");
    }
}

#[test]
fn an_idle_runtime_uses_no_cpu() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    let used = rt.run(|| {
        // Warm up, then let every P go idle while main waits on a thread.
        let hs: Vec<_> = (0..1000).map(|i| goro::go!(move || i)).collect();
        hs.into_iter().for_each(|h| drop(h.join()));
        goro::blocking(|| std::thread::sleep(Duration::from_millis(200)));
        let before = cpu_time();
        goro::blocking(|| std::thread::sleep(Duration::from_secs(1)));
        cpu_time() - before
    });
    assert!(
        used < Duration::from_millis(20),
        "idle runtime used {used:?} of CPU in 1 s"
    );
}

/// Goroutines abandoned inside `select!`, `sleep`, a timer wait and a
/// channel send, while plain threads keep sending and closing: every one is
/// unwound, its queued records are withdrawn, and later wake-ups from
/// threads and timers find nothing dangling (a record or G used after its
/// goroutine is gone shows up as a crash or a wrong drop count).
#[test]
fn goroutines_abandoned_in_select_sleep_and_timers_unwind_cleanly() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    for round in 0..40 {
        let dropped = Arc::new(AtomicUsize::new(0));
        let (outside_tx, outside_rx) = goro::chan::<u64>(0);
        let feeder = {
            let tx = outside_tx.clone();
            std::thread::spawn(move || {
                // Races the shutdown: sends until the channel closes.
                let mut i = 0;
                while tx.send(i).is_ok() {
                    i += 1;
                }
            })
        };
        let d = dropped.clone();
        let rx_for_run = outside_rx.clone();
        rt.run(move || {
            let (_keep, never) = goro::chan::<u64>(0);
            for k in 0..40u64 {
                let guard = DropCounter(d.clone());
                let never = never.clone();
                let from_thread = rx_for_run.clone();
                goro::go!(move || {
                    let _guard = guard;
                    match k % 4 {
                        0 => goro::select! {
                            recv(never) -> _ => {},
                            recv(goro::time::after(Duration::from_secs(60))) -> _ => {},
                        },
                        1 => goro::time::sleep(Duration::from_millis(1 + k % 3)),
                        2 => {
                            let t = goro::time::Timer::new(Duration::from_millis(k % 5));
                            let _ = t.chan().recv();
                            let _ = never.recv();
                        }
                        _ => {
                            for _ in 0..1000 {
                                if from_thread.recv().is_err() {
                                    break;
                                }
                            }
                            let _ = never.recv();
                        }
                    }
                });
            }
            goro::time::sleep(Duration::from_millis(round % 3));
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 40, "round {round}");
        outside_rx.close();
        feeder.join().unwrap();
    }
}

/// No goroutine observes the end of `main` (bug: goroutines parked on M0
/// were unwound, dropping their channel ends, while a goroutine on M1 was
/// still running and then saw the channel closed). Here a goroutine pinned
/// to M0 holds the only `Sender` while a goroutine on M1 computes and
/// polls the channel; `main` returns. The poller must be stopped before
/// the sender's goroutine is unwound, so it never sees `Disconnected`.
#[test]
fn no_goroutine_sees_the_shutdown() {
    use std::sync::atomic::AtomicBool;
    static STARTED: AtomicBool = AtomicBool::new(false);
    static SAW_CLOSE: AtomicUsize = AtomicUsize::new(0);
    static ON_OTHER_M: AtomicUsize = AtomicUsize::new(0);
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    for _ in 0..20 {
        STARTED.store(false, Ordering::SeqCst);
        rt.run(|| {
            let (tx, rx) = goro::chan::<()>(0);
            let main_thread = std::thread::current().id();
            goro::go!(move || {
                let on_other_m = std::thread::current().id() != main_thread;
                STARTED.store(true, Ordering::SeqCst);
                if !on_other_m {
                    return;
                }
                ON_OTHER_M.fetch_add(1, Ordering::SeqCst);
                let until = std::time::Instant::now() + Duration::from_secs(10);
                while std::time::Instant::now() < until {
                    // Computes between runtime calls, like real work.
                    let t = std::time::Instant::now();
                    while t.elapsed() < Duration::from_micros(200) {
                        std::hint::spin_loop();
                    }
                    goro::preempt_point();
                    if let Err(goro::TryRecvError::Disconnected) = rx.try_recv() {
                        SAW_CLOSE.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            });
            // Busy until it runs: then it runs on the other M.
            while !STARTED.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            // The only Sender, on a goroutine of this M, parked for good.
            let (parked_tx, parked) = goro::chan::<()>(0);
            goro::spawn_local(move || {
                let _tx = tx;
                drop(parked_tx);
                let (_keep, never) = goro::chan::<()>(0);
                let _ = never.recv();
            });
            let _ = parked.recv();
        });
    }
    assert_eq!(
        SAW_CLOSE.load(Ordering::SeqCst),
        0,
        "a running goroutine saw a channel closed by shutdown's unwinding"
    );
    // Main kept M0 busy until the poller started, so it ran on M1.
    assert_eq!(ON_OTHER_M.load(Ordering::SeqCst), 20);
}
