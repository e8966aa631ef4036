//! peerbench's program shapes (benches/shapes/) keep their line contract:
//! each run at a small N prints one `impl=goro` line with `check=ok`, the
//! CPU shapes' `work_ms` close to the work they asked for (so the bursts
//! were computed, not optimized away), `ideal_ratio` and a `p_busy`
//! fraction, and every shape's `cpu_ns_per_op`. No timing is checked.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs peerbench's `workload` at `n` with GOMAXPROCS=2 (a hang guard
/// kills it after a minute) and returns its result line's fields. The
/// held-thread report is off: a burst with workers queued behind it may
/// trigger it, and it is not what this checks.
fn run(workload: &str, n: usize) -> HashMap<String, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerbench"))
        .args([workload, &n.to_string()])
        .env("GOMAXPROCS", "2")
        .env("GODEBUG", "blockedthread=0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("peerbench {workload} {n} still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "peerbench {workload} {n}: {stdout}");
    let line = stdout.lines().find(|l| l.starts_with("impl=goro")).unwrap();
    line.split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn number(fields: &HashMap<String, String>, key: &str) -> f64 {
    match fields.get(key) {
        Some(v) => v.parse().unwrap(),
        None => panic!("no {key} in {fields:?}"),
    }
}

/// Checks a CPU shape's line, given the CPU work it asked for.
fn check_cpu_shape(workload: &str, n: usize, asked: Duration) {
    let fields = run(workload, n);
    assert_eq!(fields["check"], "ok", "{fields:?}");
    assert_eq!(fields["workload"], workload);
    let work_ms = number(&fields, "work_ms");
    let asked_ms = asked.as_secs_f64() * 1e3;
    assert!(
        work_ms > asked_ms * 0.5 && work_ms < asked_ms * 3.0,
        "{workload}: measured {work_ms} ms of work for {asked_ms} asked"
    );
    assert!(number(&fields, "ideal_ratio") > 0.0, "{fields:?}");
    let busy = number(&fields, "p_busy");
    assert!(busy > 0.0 && busy <= 1.05, "{fields:?}");
    assert!(number(&fields, "cpu_ns_per_op") > 0.0, "{fields:?}");
}

#[test]
fn gate_workers_line() {
    check_cpu_shape("gate_workers", 8, Duration::from_millis(200));
}

#[test]
fn gate_workers_wg_line() {
    check_cpu_shape("gate_workers_wg", 8, Duration::from_millis(200));
}

#[test]
fn pool_cpu_wg_line() {
    check_cpu_shape("pool_cpu_wg", 20, Duration::from_millis(20));
}

#[test]
fn pool_cpu_line() {
    check_cpu_shape("pool_cpu", 20, Duration::from_millis(20));
}

#[test]
fn pipeline_cpu_line() {
    check_cpu_shape("pipeline_cpu", 20, Duration::from_millis(20));
}

#[test]
fn fanout_cpu_line() {
    check_cpu_shape("fanout_cpu", 3, Duration::from_millis(24));
}

#[test]
fn light_reqresp_line() {
    let fields = run("light_reqresp", 220);
    assert_eq!(fields["check"], "ok", "{fields:?}");
    assert_eq!(fields["n"], "220");
    assert!(number(&fields, "cpu_ns_per_op") > 0.0, "{fields:?}");
    assert!(!fields.contains_key("ideal_ratio"), "{fields:?}");
}
