//! `#[goro::test]` and `#[goro::main]`: the body is the main goroutine of
//! a fresh runtime; `procs = N`; return values; a goroutine panic fails the
//! test, joined or not.

use std::time::Duration;

#[goro::test]
fn body_runs_as_a_goroutine() {
    assert!(goro::in_goroutine());
    assert!(goro::goroutine_id().is_some());
}

#[goro::test(procs = 3)]
fn procs_sets_gomaxprocs() {
    assert_eq!(goro::gomaxprocs(), 3);
}

#[goro::test]
fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(goro::go!(move || n + 1).join().unwrap(), 43);
    Ok(())
}

/// The failure `go test` reports: an assertion in a goroutine nobody joins.
#[goro::test(procs = 2)]
#[should_panic(expected = "goroutine(s) of this test panicked")]
fn unjoined_goroutine_panic_fails_the_test() {
    let h = goro::go!(|| assert_eq!(1 + 1, 3, "deliberate: checks #[goro::test]"));
    while !h.is_finished() {
        goro::time::sleep(Duration::from_millis(1));
    }
}

#[goro::test]
#[should_panic(expected = "goroutine(s) of this test panicked")]
fn joined_goroutine_panic_fails_the_test_too() {
    let r = goro::go!(|| panic!("deliberate: checks #[goro::test]")).join();
    assert!(r.is_err());
}

#[goro::test]
#[should_panic(expected = "main goroutine's own panic")]
fn the_bodys_own_panic_fails_the_test() {
    panic!("main goroutine's own panic");
}

/// Panics elsewhere (other runtimes, plain threads) are not this test's.
#[goro::test(procs = 2)]
fn other_runtimes_panics_do_not_count() {
    let t = std::thread::spawn(|| {
        goro::run(|| {
            let _ = goro::go!(|| panic!("deliberate: another runtime's panic")).join();
        })
    });
    goro::blocking(move || t.join().unwrap());
}

mod with_main {
    #[goro::main]
    pub fn main() -> Result<u64, String> {
        assert!(goro::in_goroutine());
        let v = goro::go!(|| 6 * 7).join().map_err(|p| p.to_string())?;
        Ok(v)
    }
}

#[test]
fn goro_main_runs_main_in_a_runtime() {
    assert!(!goro::in_goroutine());
    assert_eq!(with_main::main(), Ok(42));
}
