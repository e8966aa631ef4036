//! The README's showcase, `cargo run --release --example tour`, runs to the
//! end and prints each of its sections, the goroutine dump among them.
//! `cargo test` builds the examples next to the test binaries, so this
//! runs the built example as a child process.

use std::path::PathBuf;
use std::process::Command;

fn tour_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/tour-<hash> -> target/<profile>/examples/tour
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    profile_dir.join("examples").join("tour")
}

#[test]
fn the_tour_runs_and_shows_every_section() {
    let bin = tour_binary();
    assert!(
        bin.exists(),
        "{} is missing: run the whole suite (`cargo test --workspace --release`), which builds the examples",
        bin.display()
    );
    // With backtraces on, the deliberate panic still reads as one line.
    let out = Command::new(&bin)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tour failed: {out:?}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(!stdout.contains("backtrace"), "{stdout}");
    for expected in [
        "worker sums: [499500, 999000, 1498500, 1998000]",
        "squares over channels: [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]",
        "(an expected panic, reported: panicked at examples/tour.rs:",
        "caught: goroutine",
        "100000 goroutines spawned and joined",
        "(Go 1.27: ",
        "1000 goroutines x 100 increments under a Mutex: 100000",
        "errgroup: Err(\"task 5 failed\")",
        "goroutine dump, the waiter's block:",
        "[chan receive]:",
        "tour::wait_for_order(...)",
        // The `go!` closure's frame names the user's file, not goro's.
        "tour::main::{{closure}}::{{closure}}(...)\n\texamples/tour.rs:",
        "goro::net round trip: echo: hello, goroutines",
        "the waiter got order Some(7)",
        "GOMAXPROCS",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
}
