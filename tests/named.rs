//! Named goroutines (`GoBuilder::name`): the name shows wherever a
//! goroutine is shown. Output that goes to stderr or a trace file is read
//! from a child process (this test binary re-executed); the deadlock
//! report's case is in `tests/deadlock.rs`.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

mod common;

use common::child::{is_child, run_child, CHILD};

/// Starts a goroutine named `name` parked in a receive that never
/// completes (its sender is kept alive by the caller); returns its id.
fn park_named(name: &str, rx: goro::Receiver<u8>) -> u64 {
    let h = goro::GoBuilder::new()
        .name(name)
        .spawn(move || {
            let _ = rx.recv();
        })
        .unwrap();
    let id = h.id();
    drop(h);
    // Let it start and park (a dump lists started goroutines only).
    while !goro::dump_goroutines().contains(&format!("goroutine {id} {name:?} [chan receive]")) {
        goro::time::sleep(Duration::from_millis(1));
    }
    id
}

#[test]
fn dump_goroutines_shows_the_name() {
    goro::run(|| {
        let (_tx, rx) = goro::chan::<u8>(0);
        let id = park_named("fetcher", rx);
        let dump = goro::dump_goroutines();
        let block = &dump[dump.find(&format!("goroutine {id} ")).unwrap()..];
        assert!(
            block.starts_with(&format!("goroutine {id} \"fetcher\" [chan receive]:\n")),
            "{dump}"
        );
        // Unnamed goroutines keep Go's header.
        assert!(dump.starts_with("goroutine 1 [running]:\n"), "{dump}");
        // A name with a quote is escaped, so the header stays parseable.
        let (_tx2, rx2) = goro::chan::<u8>(0);
        park_named("say \"hi\"", rx2);
    });
}

#[test]
fn child_named_program() {
    if is_child("child_named_program") {
        goro::run(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            std::mem::forget(tx);
            let id = park_named("fetcher", rx);
            println!("fetcher is goroutine {id}");
            // Long enough for a few schedtrace lines.
            goro::time::sleep(Duration::from_millis(120));
        });
    }
}

#[test]
fn scheddetail_leaks_and_traces_show_the_name() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let path = std::env::temp_dir().join(format!("goro-named-{}.json", std::process::id()));
    let out = run_child(
        "child_named_program",
        &[
            ("GODEBUG", "schedtrace=20,scheddetail=1,goroleaks=1"),
            ("GORO_TRACE", path.to_str().unwrap()),
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let id: u64 = stdout
        .lines()
        .find_map(|l| Some(l.split_once("fetcher is goroutine ")?.1))
        .expect(&stdout)
        .parse()
        .unwrap();
    assert!(
        stderr.lines().any(
            |l| l.starts_with(&format!("  G{id}: status=")) && l.ends_with(" name=\"fetcher\"")
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("goroutineleak profile: total 1\n1 @ [chan receive] \"fetcher\" created by goro::go at tests/named.rs:"),
        "{stderr}"
    );
    let trace = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(
        trace.contains(&format!(r#""name":"G{id} fetcher","cat":"run""#)),
        "{trace}"
    );
    assert!(
        trace.contains(&format!(r#""args":{{"goid":{id},"parent":1,"#))
            && trace.contains(r#","name":"fetcher"}}"#),
        "{trace}"
    );
}

#[test]
fn sigquit_dump_shows_the_name() {
    const NAME: &str = "sigquit_dump_shows_the_name";
    if is_child(NAME) {
        // SAFETY: sets a signal's action to its default; no handler runs.
        unsafe { libc::signal(libc::SIGQUIT, libc::SIG_DFL) };
        goro::run(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            std::mem::forget(tx);
            park_named("fetcher", rx);
            // SAFETY: sends SIGQUIT to this process.
            unsafe { libc::kill(libc::getpid(), libc::SIGQUIT) };
            goro::time::sleep(Duration::from_secs(10));
        });
        unreachable!("SIGQUIT must end the process");
    }
    let out = run_child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{:?} {stderr}",
        out.status.signal()
    );
    assert!(
        stderr.contains(" \"fetcher\" [chan receive]:\n"),
        "{stderr}"
    );
}
