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

/// Set by `a_deadlocked_test_fails_with_the_report` for its child run.
const DEADLOCK_FIXTURE: &str = "GORO_TEST_DEADLOCK_FIXTURE";

/// A fixture, not a test: run only by the test below, in a child process
/// (ignored, and a no-op without the variable): every goroutine blocks.
#[goro::test(procs = 2)]
#[ignore = "a fixture of a_deadlocked_test_fails_with_the_report"]
fn deadlock_fixture() {
    if std::env::var_os(DEADLOCK_FIXTURE).is_none() {
        return;
    }
    let (_tx, rx) = goro::chan::chan::<()>(0);
    let (tx2, rx2) = goro::chan::chan::<()>(0);
    goro::go!(move || rx2.recv().unwrap());
    let _keep = tx2;
    rx.recv().unwrap();
}

/// A fixture running beside the deadlocked one: a plain test that sleeps,
/// as another test of the binary would, and then finishes.
#[test]
#[ignore = "a fixture of a_deadlocked_test_fails_with_the_report"]
fn sleeping_fixture() {
    if std::env::var_os(DEADLOCK_FIXTURE).is_some() {
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A deadlocked `#[goro::test]` under libtest's parallel harness (whose
/// main thread waits with a timeout, and beside a sleeping test) fails with
/// Go's deadlock report and status 2 instead of hanging.
#[test]
fn a_deadlocked_test_fails_with_the_report() {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "deadlock_fixture",
            "sleeping_fixture",
            "--exact",
            "--ignored",
        ])
        .args(["--test-threads=2", "--nocapture"])
        .env(DEADLOCK_FIXTURE, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A hang guard only: the report comes within a second or so.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the deadlocked test hung instead of failing");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fatal error: all goroutines are asleep - deadlock!"),
        "{stderr}"
    );
    assert!(stderr.contains("goroutine 1 [chan receive]"), "{stderr}");
}
