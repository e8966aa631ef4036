//! Misuse a user can make gets a panic that blames the user's line, not a
//! file of goro's (`#[track_caller]` all the way down). One test: the panic
//! hook it installs is process-wide.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// Runs `f`, which must panic, and returns the panic's file and message.
fn panic_site(f: impl FnOnce()) -> (String, String) {
    static SEEN: Mutex<Option<(String, String)>> = Mutex::new(None);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let file = info.location().map_or("?", |l| l.file()).to_string();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        *SEEN.lock().unwrap() = Some((file, msg));
    }));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    assert!(outcome.is_err(), "did not panic");
    SEEN.lock().unwrap().take().expect("the hook saw no panic")
}

#[track_caller]
fn assert_blames_this_file(case: &str, f: impl FnOnce(), says: &str) {
    let (file, msg) = panic_site(f);
    assert!(
        file.ends_with("misuse.rs"),
        "{case}: the panic blames {file}, not the caller ({msg})"
    );
    assert!(msg.contains(says), "{case}: {msg}");
}

#[test]
fn misuse_panics_point_at_the_users_line() {
    assert_blames_this_file(
        "go! outside a runtime",
        || drop(goro::go!(|| ())),
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "Handle::current outside a runtime",
        || drop(goro::Handle::current()),
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "spawn_local outside a runtime",
        || drop(goro::spawn_local(|| ())),
        "outside a goroutine",
    );
    assert_blames_this_file(
        "set_gomaxprocs outside a runtime",
        || {
            goro::set_gomaxprocs(2);
        },
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "set_default_gomaxprocs outside a runtime",
        || goro::set_default_gomaxprocs(),
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "time::after_func outside a runtime",
        || drop(goro::time::after_func(std::time::Duration::ZERO, || ())),
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "context::after_func outside a runtime",
        || {
            let ctx = goro::context::background();
            drop(goro::context::after_func(&ctx, || ()));
        },
        "outside a goro runtime",
    );
    assert_blames_this_file(
        "a channel capacity out of range",
        || drop(goro::chan::<u64>(usize::MAX / 2)),
        "out of range",
    );
    assert_blames_this_file(
        "time::tick(0)",
        || drop(goro::time::tick(std::time::Duration::ZERO)),
        "must be positive",
    );
    assert_blames_this_file(
        "Ticker::new(0)",
        || drop(goro::time::Ticker::new(std::time::Duration::ZERO)),
        "must be positive",
    );
    assert_blames_this_file(
        "a negative WaitGroup counter",
        || goro::sync::WaitGroup::new().done(),
        "negative WaitGroup counter",
    );
    assert_blames_this_file(
        "Semaphore::acquire beyond its size",
        || goro::sync::Semaphore::new(1).acquire(2),
        "could never succeed",
    );
    assert_blames_this_file(
        "run inside a goroutine",
        || goro::run(|| goro::run(|| ())),
        "from inside a goroutine",
    );
    assert_blames_this_file(
        "errgroup::Group::set_limit while running",
        || {
            goro::run(|| {
                let g = goro::errgroup::Group::<()>::new();
                let (_tx, rx) = goro::chan::<()>(0);
                g.go(move || {
                    let _ = rx.recv();
                    Ok(())
                });
                g.set_limit(1);
            })
        },
        "modify limit",
    );
}
