//! goro::sync as real programs on the runtime: mutual exclusion at 1 and 2
//! Ps, Go's fairness rules (a starved locker gets the mutex, a writer is not
//! starved by readers), Cond's notify semantics, the weighted semaphore's
//! FIFO, WaitGroup reuse, poisoning, sharing with plain threads, and
//! goroutines abandoned while parked on each primitive.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::wait_group;
use goro::sync::{Cond, Mutex, Once, RwLock, Semaphore, WaitGroup};

fn runtime(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

/// 1,000 goroutines x 1,000 increments of a plain counter; every 100th
/// increment parks while holding the lock, so lockers queue even at 1 P.
fn count_under_mutex(procs: usize) {
    let total = runtime(procs).run(|| {
        let counter = Arc::new(Mutex::new(0u64));
        let wg = WaitGroup::new();
        for _ in 0..1000 {
            let counter = counter.clone();
            wg.go(move || {
                for i in 0..1000 {
                    let mut c = counter.lock();
                    let v = *c;
                    if i % 100 == 0 {
                        goro::gosched();
                    }
                    *c = v + 1;
                }
            });
        }
        wg.wait();
        let total = *counter.lock();
        total
    });
    assert_eq!(total, 1_000_000);
}

#[test]
fn mutex_excludes_at_one_p() {
    count_under_mutex(1);
}

#[test]
fn mutex_excludes_at_two_ps() {
    count_under_mutex(2);
}

/// Hammerers relock a hot mutex at once after each short hold; a victim
/// arriving meanwhile must still get it soon (starvation mode hands it
/// over after 1 ms of waiting). The victim is a goroutine watched with a
/// deadline, so a starved one fails the test instead of hanging it.
#[test]
fn a_starved_locker_gets_the_mutex() {
    let (finished, took) = runtime(2).run(|| {
        let hot = Arc::new(Mutex::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let hammerers = WaitGroup::new();
        for _ in 0..3 {
            let (hot, stop) = (hot.clone(), stop.clone());
            hammerers.go(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut g = hot.lock();
                    let until = Instant::now() + Duration::from_micros(20);
                    while Instant::now() < until {
                        *g += 1;
                    }
                }
            });
        }
        goro::time::sleep(Duration::from_millis(20));
        let h = hot.clone();
        let start = Instant::now();
        let victim = goro::go!(move || {
            for _ in 0..20 {
                drop(h.lock());
                goro::time::sleep(Duration::from_millis(1));
            }
        });
        while !victim.is_finished() && start.elapsed() < Duration::from_secs(5) {
            goro::time::sleep(Duration::from_millis(5));
        }
        let finished = victim.is_finished();
        let took = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        hammerers.wait();
        victim.join().unwrap();
        (finished, took)
    });
    assert!(finished, "20 locks of a hot mutex took over {took:?}");
}

/// Readers keep the lock read-held without a gap (each holds it across a
/// sleep, staggered); a writer must get in anyway, and the readers that
/// came after it wait for it.
#[test]
fn a_writer_is_not_starved_by_readers() {
    let waited = runtime(2).run(|| {
        let lock = Arc::new(RwLock::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let readers = WaitGroup::new();
        for r in 0..4u64 {
            let (lock, stop) = (lock.clone(), stop.clone());
            readers.go(move || {
                goro::time::sleep(Duration::from_millis(r));
                while !stop.load(Ordering::Relaxed) {
                    let g = lock.read();
                    goro::time::sleep(Duration::from_millis(2));
                    drop(g);
                }
            });
        }
        goro::time::sleep(Duration::from_millis(10));
        let start = Instant::now();
        *lock.write() += 1;
        let waited = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        readers.wait();
        assert_eq!(*lock.read(), 1);
        waited
    });
    assert!(
        waited < Duration::from_millis(500),
        "the writer waited {waited:?}"
    );
}

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    let (sum, max_readers) = runtime(2).run(|| {
        let lock = Arc::new(RwLock::new(0u64));
        let readers_in = Arc::new(AtomicUsize::new(0));
        let max_readers = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::new();
        for g in 0..100 {
            let (lock, readers_in, max_readers) =
                (lock.clone(), readers_in.clone(), max_readers.clone());
            wg.go(move || {
                for i in 0..200 {
                    if (g + i) % 4 == 0 {
                        let mut w = lock.write();
                        assert_eq!(
                            readers_in.load(Ordering::SeqCst),
                            0,
                            "reader inside a write"
                        );
                        let v = *w;
                        goro::gosched();
                        *w = v + 1;
                    } else {
                        let r = lock.read();
                        let n = readers_in.fetch_add(1, Ordering::SeqCst) + 1;
                        max_readers.fetch_max(n, Ordering::SeqCst);
                        let before = *r;
                        goro::gosched();
                        assert_eq!(*r, before, "data changed under a read lock");
                        readers_in.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            });
        }
        wg.wait();
        let sum = *lock.read();
        (sum, max_readers.load(Ordering::SeqCst))
    });
    assert_eq!(sum, 100 * 200 / 4);
    assert!(max_readers > 1, "readers never overlapped");
}

#[test]
fn try_variants_do_not_wait() {
    goro::run(|| {
        let m = Mutex::new(1);
        let g = m.lock();
        assert!(matches!(
            m.try_lock(),
            Err(std::sync::TryLockError::WouldBlock)
        ));
        drop(g);
        assert_eq!(*m.try_lock().unwrap(), 1);

        let rw = RwLock::new(1);
        let r = rw.read();
        assert!(rw.try_read().is_ok());
        assert!(matches!(
            rw.try_write(),
            Err(std::sync::TryLockError::WouldBlock)
        ));
        drop(r);
        let w = rw.try_write().unwrap();
        assert!(matches!(
            rw.try_read(),
            Err(std::sync::TryLockError::WouldBlock)
        ));
        drop(w);
        assert_eq!(format!("{rw:?}"), "RwLock { data: 1, poisoned: false, .. }");
    });
}

/// A mutex counting the goroutines that wait on the Cond beside it.
type Waiting = Arc<(Mutex<usize>, Cond)>;

/// `n` goroutines parked on a Cond (counted under its mutex, so the caller
/// knows all are parked), each adding to `woken` when it wakes.
fn parked_waiters(n: usize) -> (Waiting, Arc<AtomicUsize>, WaitGroup) {
    let shared: Waiting = Arc::new((Mutex::new(0), Cond::new()));
    let woken = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new();
    for _ in 0..n {
        let (shared, woken) = (shared.clone(), woken.clone());
        wg.go(move || {
            let (m, c) = &*shared;
            let mut g = m.lock();
            *g += 1;
            g = c.wait(g);
            woken.fetch_add(1, Ordering::SeqCst);
            drop(g);
        });
    }
    while *shared.0.lock() < n {
        goro::time::sleep(Duration::from_millis(1));
    }
    (shared, woken, wg)
}

#[test]
fn cond_notify_one_wakes_one_waiter_and_notify_all_the_rest() {
    runtime(2).run(|| {
        let (shared, woken, wg) = parked_waiters(10);
        shared.1.notify_one();
        goro::time::sleep(Duration::from_millis(30));
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        shared.1.notify_one();
        goro::time::sleep(Duration::from_millis(30));
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        shared.1.notify_all();
        wg.wait();
        assert_eq!(woken.load(Ordering::SeqCst), 10);
    });
}

#[test]
fn cond_notify_before_wait_is_not_remembered() {
    runtime(2).run(|| {
        let shared = Arc::new((Mutex::new(false), Cond::new()));
        shared.1.notify_one();
        shared.1.notify_all();
        let s = shared.clone();
        let waiter = goro::go!(move || {
            let g = s.1.wait_while(s.0.lock(), |done| !*done);
            assert!(*g);
        });
        goro::time::sleep(Duration::from_millis(30));
        assert!(
            !waiter.is_finished(),
            "an earlier notify woke a later waiter"
        );
        *shared.0.lock() = true;
        shared.1.notify_one();
        waiter.join().unwrap();
    });
}

#[test]
fn cond_broadcast_releases_a_crowd_at_two_ps() {
    runtime(2).run(|| {
        for _ in 0..20 {
            let shared = Arc::new((Mutex::new(false), Cond::new()));
            let wg = WaitGroup::new();
            for _ in 0..50 {
                let s = shared.clone();
                wg.go(move || drop(s.1.wait_while(s.0.lock(), |go| !*go)));
            }
            goro::gosched();
            *shared.0.lock() = true;
            shared.1.notify_all();
            wg.wait();
        }
    });
}

#[test]
fn once_runs_once_and_a_panic_counts_as_done() {
    runtime(2).run(|| {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::new();
        for _ in 0..100 {
            let (once, runs) = (once.clone(), runs.clone());
            wg.go(move || {
                once.call_once(|| {
                    goro::time::sleep(Duration::from_millis(10));
                    runs.fetch_add(1, Ordering::SeqCst);
                });
                // Every caller returns only after the run finished.
                assert_eq!(runs.load(Ordering::SeqCst), 1);
            });
        }
        wg.wait();
        assert!(once.is_completed());

        let failing = Arc::new(Once::new());
        let f = failing.clone();
        let err = goro::go!(move || f.call_once(|| panic!("init failed")))
            .join()
            .unwrap_err();
        assert_eq!(err.message(), Some("init failed"));
        assert!(failing.is_completed());
        failing.call_once(|| unreachable!("a panicked Once counts as done"));
    });
}

/// Starts a goroutine that acquires `n` and logs `tag`, and lets it park
/// (one P: it runs while this goroutine sleeps).
fn acquirer(
    sem: &Arc<Semaphore>,
    n: usize,
    tag: &'static str,
    log: &Arc<Mutex<Vec<&'static str>>>,
) -> goro::JoinHandle<()> {
    let (sem, log) = (sem.clone(), log.clone());
    let h = goro::go!(move || {
        sem.acquire(n);
        log.lock().push(tag);
    });
    goro::time::sleep(Duration::from_millis(5));
    h
}

#[test]
fn semaphore_serves_weighted_waiters_in_order() {
    runtime(1).run(|| {
        let sem = Arc::new(Semaphore::new(10));
        let log = Arc::new(Mutex::new(Vec::new()));
        sem.acquire(10);
        let big = acquirer(&sem, 6, "big", &log);
        let small = acquirer(&sem, 1, "small", &log);
        assert!(!sem.try_acquire(1), "try_acquire barged past waiters");
        sem.release(5);
        goro::time::sleep(Duration::from_millis(5));
        assert!(
            log.lock().is_empty(),
            "the small waiter barged past the big one"
        );
        sem.release(1);
        big.join().unwrap();
        goro::time::sleep(Duration::from_millis(5));
        assert_eq!(
            *log.lock(),
            ["big"],
            "small got a token while none was free"
        );
        sem.release(6);
        small.join().unwrap();
        assert_eq!(*log.lock(), ["big", "small"]);
        assert_eq!(sem.available(), 5);
    });
}

#[test]
fn semaphore_misuse_panics_with_a_clear_message() {
    goro::run(|| {
        let sem = Arc::new(Semaphore::new(3));
        let s = sem.clone();
        let err = goro::go!(move || s.acquire(4)).join().unwrap_err();
        assert!(
            err.message().unwrap().contains("could never succeed"),
            "{err}"
        );
        sem.acquire(2);
        let s = sem.clone();
        let err = goro::go!(move || s.release(3)).join().unwrap_err();
        assert!(
            err.message().unwrap().contains("release(3) with only 2"),
            "{err}"
        );
        sem.release(2);
        assert_eq!(sem.available(), 3);
    });
}

#[test]
fn wait_group_is_reusable_and_rejects_a_negative_counter() {
    runtime(2).run(|| {
        let wg = WaitGroup::new();
        let done = Arc::new(AtomicUsize::new(0));
        for round in 1..=50 {
            for _ in 0..20 {
                let done = done.clone();
                wg.go(move || {
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            wg.wait();
            assert_eq!(done.load(Ordering::SeqCst), round * 20);
        }
        let w = wg.clone();
        let err = goro::go!(move || w.done()).join().unwrap_err();
        assert_eq!(err.message(), Some("sync: negative WaitGroup counter"));
        assert_eq!(wg.count(), 0, "a rejected done changed the counter");
    });
}

#[test]
fn a_panic_under_the_lock_poisons_it() {
    goro::run(|| {
        let m = Arc::new(Mutex::new(7));
        let m2 = m.clone();
        let _ = goro::go!(move || {
            let _g = m2.lock();
            panic!("holder panics");
        })
        .join();
        assert!(m.is_poisoned());
        let m3 = m.clone();
        let err = goro::go!(move || drop(m3.lock())).join().unwrap_err();
        assert!(err.message().unwrap().contains("poisoned"), "{err}");
        let g = m.lock_result().unwrap_err().into_inner();
        assert_eq!(*g, 7);
        drop(g);
        assert!(matches!(
            m.try_lock(),
            Err(std::sync::TryLockError::Poisoned(_))
        ));
        m.clear_poison();
        assert_eq!(*m.lock(), 7);

        let rw = Arc::new(RwLock::new(1));
        let r = rw.clone();
        let _ = goro::go!(move || {
            let _g = r.read();
            panic!("a reader panics");
        })
        .join();
        assert!(!rw.is_poisoned(), "a reader poisoned the lock");
        let w = rw.clone();
        let _ = goro::go!(move || {
            let _g = w.write();
            panic!("a writer panics");
        })
        .join();
        assert!(rw.is_poisoned());
        assert!(rw.read_result().is_err() && rw.write_result().is_err());
        let rw = Arc::try_unwrap(rw).unwrap();
        assert_eq!(rw.into_inner().unwrap_err().into_inner(), 1);
    });
}

/// The poison flag shares the lock word and a poisoning guard sets it in
/// its unlock: check it with waiters queued, after std's recovery idiom,
/// and for a lock taken while already unwinding.
#[test]
fn poisoning_keeps_the_lock_word_whole() {
    goro::run(|| {
        // A holder panics while a goroutine waits: the waiter gets the
        // mutex, poisoned, and the word is clean once the flag is cleared.
        let m = Arc::new(Mutex::new(0));
        let (m1, m2) = (m.clone(), m.clone());
        let holder = goro::go!(move || {
            let _g = m1.lock();
            goro::time::sleep(Duration::from_millis(20));
            panic!("holder panics");
        });
        goro::time::sleep(Duration::from_millis(5));
        let waiter = goro::go!(move || m2.lock_result().is_err());
        assert!(holder.join().is_err());
        assert!(waiter.join().unwrap(), "the waiter was not told");
        m.clear_poison();
        *m.lock() += 1;
        assert!(!m.is_poisoned());
        assert_eq!(*m.try_lock().unwrap(), 1);

        // std's recovery idiom: clear the flag while holding the guard a
        // poisoned lock gave; a second panic under it poisons it again.
        let m3 = m.clone();
        let _ = goro::go!(move || {
            let _g = m3.lock();
            panic!("first");
        })
        .join();
        let m4 = m.clone();
        let _ = goro::go!(move || {
            let g = m4.lock_result().unwrap_or_else(|e| {
                m4.clear_poison();
                e.into_inner()
            });
            assert!(!m4.is_poisoned());
            let _g = g;
            panic!("second");
        })
        .join();
        assert!(m.is_poisoned(), "the second panic did not poison");
        m.clear_poison();

        // A guard taken during unwinding (in a destructor) does not poison.
        struct LocksOnDrop(Arc<Mutex<i32>>);
        impl Drop for LocksOnDrop {
            fn drop(&mut self) {
                *self.0.lock() += 1;
            }
        }
        let m5 = m.clone();
        let _ = goro::go!(move || {
            let _d = LocksOnDrop(m5);
            panic!("unwinds through a lock");
        })
        .join();
        assert!(!m.is_poisoned(), "a lock taken while unwinding poisoned");
        assert_eq!(*m.lock(), 2);
    });
}

#[test]
fn a_mutex_is_shared_by_goroutines_and_a_plain_thread() {
    let counter = Arc::new(Mutex::new(0u64));
    let c = counter.clone();
    let thread = std::thread::spawn(move || {
        for _ in 0..100_000 {
            *c.lock() += 1;
        }
    });
    let c = counter.clone();
    runtime(2).run(move || {
        let wg = WaitGroup::new();
        for _ in 0..10 {
            let c = c.clone();
            wg.go(move || {
                for _ in 0..10_000 {
                    *c.lock() += 1;
                }
            });
        }
        wg.wait();
    });
    thread.join().unwrap();
    assert_eq!(*counter.lock(), 200_000);
}

/// Runs `check` on a plain thread and fails if it does not finish in time
/// (a primitive left unusable would block it forever).
fn finishes_soon(what: &str, check: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        check();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what} is unusable after goroutines were abandoned on it"));
}

/// Goroutines parked on a Mutex, an RwLock and a Semaphore held by a plain
/// thread, plus goroutines contending for them, are abandoned when `run`
/// returns (unwound while parked, some after being woken or handed the
/// lock); every primitive must stay usable, and unpoisoned by waiters.
#[test]
fn goroutines_abandoned_on_locks_leave_them_usable() {
    let rt = runtime(2);
    for round in 0..20u64 {
        let mutex = Arc::new(Mutex::new(0u64));
        let rw = Arc::new(RwLock::new(0u64));
        let sem = Arc::new(Semaphore::new(4));
        let held = (mutex.clone(), rw.clone(), sem.clone());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (locked_tx, locked_rx) = mpsc::channel::<()>();
        let holder = std::thread::spawn(move || {
            let (m, r, s) = held;
            let g = m.lock();
            let w = r.write();
            s.acquire(4);
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            drop((g, w));
            s.release(4);
        });
        locked_rx.recv().unwrap();
        let (m, r, s) = (mutex.clone(), rw.clone(), sem.clone());
        rt.run(move || {
            let never = wait_group(1);
            for k in 0..30u64 {
                let (m, r, s, never) = (m.clone(), r.clone(), s.clone(), never.clone());
                goro::go!(move || {
                    for _ in 0..50 {
                        match k % 4 {
                            0 => *m.lock() += 1,
                            1 => *r.write() += 1,
                            2 => drop(r.read()),
                            _ => {
                                s.acquire(1 + (k as usize % 4));
                                s.release(1 + (k as usize % 4));
                            }
                        }
                    }
                    never.wait();
                });
            }
            goro::time::sleep(Duration::from_millis(2));
            release_tx.send(()).unwrap();
            goro::time::sleep(Duration::from_micros(200 * (round % 5)));
        });
        holder.join().unwrap();
        assert!(!mutex.is_poisoned() && !rw.is_poisoned(), "round {round}");
        finishes_soon("the Mutex", move || drop(mutex.lock()));
        finishes_soon("the RwLock", move || {
            drop(rw.write());
            drop(rw.read());
        });
        finishes_soon("the Semaphore", move || {
            sem.acquire(4);
            sem.release(4);
        });
    }
}
