//! `goro::scope`: scoped goroutines borrow from the caller's stack;
//! every one is finished when `scope` returns; std's panic rules.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[goro::test(procs = 2)]
fn hundred_goroutines_borrow_a_local_vec() {
    let v: Vec<u64> = (0..1000).collect();
    let sums: Vec<u64> = goro::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let v = &v;
                s.go(move || {
                    goro::gosched();
                    v[i * 10..i * 10 + 10].iter().sum::<u64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sums.iter().sum::<u64>(), v.iter().sum::<u64>());
    assert_eq!(sums[3], (30..40).sum::<u64>());
}

#[goro::test(procs = 2)]
fn goroutines_write_disjoint_parts_and_all_finish_before_scope_returns() {
    let mut data = vec![0u32; 100 * 8];
    let finished = AtomicUsize::new(0);
    goro::scope(|s| {
        for (i, chunk) in data.chunks_mut(8).enumerate() {
            let finished = &finished;
            // Not joined: scope itself waits.
            s.go(move || {
                goro::time::sleep(Duration::from_millis(1 + (i % 3) as u64));
                chunk.iter_mut().for_each(|x| *x = i as u32);
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(finished.load(Ordering::SeqCst), 100);
    for (i, chunk) in data.chunks(8).enumerate() {
        assert!(chunk.iter().all(|&x| x == i as u32));
    }
}

#[goro::test(procs = 1)]
fn scope_returns_the_closures_value_and_nests() {
    let x = 5;
    let r = goro::scope(|s| {
        let h = s.go(|| goro::scope(|s2| s2.go(|| x * 2).join().unwrap()));
        h.join().unwrap() + 1
    });
    assert_eq!(r, 11);
}

/// An unjoined scoped panic is re-raised by scope after every goroutine
/// finished; a joined one is the joiner's. (Plain #[test]s: a goroutine
/// panic fails a #[goro::test].)
#[test]
fn unjoined_panic_is_reraised_after_all_finish() {
    let finished = AtomicUsize::new(0);
    let r = goro::run(move || {
        let finished = &finished;
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            goro::scope(|s| {
                s.go(|| panic!("scoped boom"));
                for _ in 0..10 {
                    s.go(move || {
                        goro::time::sleep(Duration::from_millis(5));
                        finished.fetch_add(1, Ordering::SeqCst);
                    });
                }
            })
        }));
        (out.is_err(), finished.load(Ordering::SeqCst))
    });
    assert_eq!(r, (true, 10));
}

#[test]
fn joined_panic_is_not_reraised() {
    let msg = goro::run(|| {
        goro::scope(|s| {
            let h = s.go(|| -> u32 { panic!("joined boom") });
            h.join().unwrap_err().message().map(str::to_owned)
        })
    });
    assert_eq!(msg.as_deref(), Some("joined boom"));
}
