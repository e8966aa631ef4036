//! `goro::io`'s standard streams: behaviour that needs no terminal.

/// A goroutine that panics while holding stdin's lock (a `lines()` loop
/// that panics) leaves stdin usable, as std's never-poisoned stdin does.
#[test]
fn a_panic_while_stdin_is_locked_does_not_poison_it() {
    goro::run(|| {
        let panicked = goro::go!(|| {
            let _lock = goro::io::stdin().lock();
            panic!("a panic inside a lines() loop");
        })
        .join();
        assert!(panicked.is_err());
        // Locks again (a poisoned lock would panic here).
        drop(goro::io::stdin().lock());
    });
}
