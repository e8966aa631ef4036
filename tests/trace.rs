//! Scheduler tracing on real programs: `GORO_TRACE` trace files (parsed
//! and checked: valid JSON, slices never overlap on one M, every spawned
//! goroutine runs in a slice, steals, parks and wakes recorded), a bad
//! `GORO_TRACE` path, and the `tracing` events seen by a subscriber. Each
//! program runs in a child process (this test binary re-executed), since
//! `GORO_TRACE` is read from the environment and a global subscriber is
//! process-wide.

mod trace {
    pub mod json;
}

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trace::json::{self, Json};

mod common;

use common::child::{is_child, CHILD};

/// Runs the test `name` of this binary in a child, which must succeed.
fn run_child(name: &str, env: &[(&str, &str)]) -> Output {
    let out = common::child::run_child(name, env);
    assert!(
        out.status.success(),
        "child {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A program with every kind of event: a burst of goroutines that keep
/// their M busy (so the other M steals), a channel ping-pong (parks and
/// wakes), sleeps (woken by timers) and a GOMAXPROCS change.
fn traced_program() {
    goro::Runtime::builder().procs(2).build().unwrap().run(|| {
        let burst: Vec<_> = (0..64u64)
            .map(|i| {
                goro::go!(move || {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(300) {
                        goro::preempt_point();
                    }
                    i
                })
            })
            .collect();
        let sum: u64 = burst.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sum, 63 * 64 / 2);
        let (ping_tx, ping_rx) = goro::chan::<u32>(0);
        let (pong_tx, pong_rx) = goro::chan::<u32>(0);
        let echo = goro::go!(move || {
            for v in &ping_rx {
                pong_tx.send(v + 1).unwrap();
            }
        });
        for i in 0..200 {
            ping_tx.send(i).unwrap();
            assert_eq!(pong_rx.recv().unwrap(), i + 1);
        }
        drop(ping_tx);
        echo.join().unwrap();
        // Goroutines pinned to this M computing in turn while the other P
        // has nothing to do: sysmon's idlewait counter grows.
        let pinned: Vec<_> = (0..4)
            .map(|_| {
                goro::spawn_local(|| {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_millis(40) {
                        goro::preempt_point();
                    }
                })
            })
            .collect();
        pinned.into_iter().for_each(|h| h.join().unwrap());
        let sleepers: Vec<_> = (0..8)
            .map(|_| goro::go!(|| goro::time::sleep(Duration::from_millis(2))))
            .collect();
        sleepers.into_iter().for_each(|h| h.join().unwrap());
        goro::set_gomaxprocs(1);
        goro::go!(|| ()).join().unwrap();
    });
}

#[test]
fn child_writes_trace() {
    if is_child("child_writes_trace") {
        traced_program();
    }
}

/// An event's string argument.
fn arg<'a>(e: &'a Json, key: &str) -> Option<&'a Json> {
    e.get("args").and_then(|a| a.get(key))
}

#[test]
fn trace_file_is_valid_and_complete() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let path = std::env::temp_dir().join(format!("goro-trace-{}.json", std::process::id()));
    let out = run_child(
        "child_writes_trace",
        &[("GORO_TRACE", path.to_str().unwrap())],
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("GORO_TRACE"),
        "unexpected report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let doc = json::parse(&text).unwrap_or_else(|e| panic!("invalid JSON: {e}"));
    let Some(Json::Arr(events)) = doc.get("traceEvents") else {
        panic!("no traceEvents array")
    };

    let mut named_tracks = BTreeSet::new();
    let mut slices: BTreeMap<u64, Vec<(u64, u64, u64)>> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut spawned = BTreeSet::new();
    let mut park_reasons = BTreeSet::new();
    for e in events {
        assert_eq!(e.get("pid").and_then(Json::u64), Some(1), "{e:?}");
        let tid = e.get("tid").and_then(Json::u64).expect("tid");
        let ph = e.get("ph").and_then(Json::str).expect("ph");
        let name = e.get("name").and_then(Json::str).expect("name");
        match ph {
            "M" => {
                assert_eq!(name, "thread_name");
                named_tracks.insert(tid);
                continue;
            }
            "X" => {
                let ts = e.get("ts").and_then(Json::micros_as_nanos).expect("ts");
                let dur = e.get("dur").and_then(Json::micros_as_nanos).expect("dur");
                let goid = arg(e, "goid").and_then(Json::u64).expect("goid");
                assert_eq!(name, format!("G{goid}"));
                slices.entry(tid).or_default().push((ts, dur, goid));
            }
            "i" => {
                e.get("ts").and_then(Json::micros_as_nanos).expect("ts");
                if name == "spawn" {
                    spawned.insert(arg(e, "goid").and_then(Json::u64).expect("goid"));
                    let site = arg(e, "site").and_then(Json::str).expect("site");
                    assert!(site.contains(".rs:"), "spawn site {site:?}");
                }
                if name == "park" {
                    let r = arg(e, "reason").and_then(Json::str).expect("reason");
                    park_reasons.insert(r.to_string());
                }
            }
            "C" => {
                assert!(name.starts_with("idlewait M"), "counter {name}");
                e.get("ts").and_then(Json::micros_as_nanos).expect("ts");
                arg(e, "ms").and_then(Json::micros_as_nanos).expect("ms");
            }
            other => panic!("unexpected phase {other:?}"),
        }
        assert!(named_tracks.contains(&tid), "track {tid} used before named");
        *counts.entry(name.to_string()).or_default() += 1;
    }

    assert!(
        slices.len() >= 2,
        "expected two M tracks: {:?}",
        slices.keys()
    );
    let mut ran = BTreeSet::new();
    for (tid, s) in &mut slices {
        s.sort();
        for w in s.windows(2) {
            let ((ts0, dur0, g0), (ts1, _, g1)) = (w[0], w[1]);
            assert!(
                ts0 + dur0 <= ts1,
                "slices overlap on M{tid}: G{g0} at {ts0}+{dur0}ns, G{g1} at {ts1}ns"
            );
        }
        ran.extend(s.iter().map(|x| x.2));
    }
    // 64 + echo + 8 sleepers + 1, and the main goroutine.
    assert!(spawned.len() >= 75, "spawns: {}", spawned.len());
    let missing: Vec<_> = spawned.difference(&ran).collect();
    assert!(missing.is_empty(), "spawned but never ran: {missing:?}");
    assert!(
        counts.keys().any(|k| k.starts_with("idlewait M")),
        "no idlewait counter: {counts:?}"
    );
    for kind in ["steal", "park", "wake", "GOMAXPROCS"] {
        assert!(
            counts.get(kind).is_some_and(|&n| n > 0),
            "no {kind}: {counts:?}"
        );
    }
    for reason in ["chan", "sleep", "join"] {
        assert!(
            park_reasons.iter().any(|r| r.starts_with(reason)),
            "no park for {reason}: {park_reasons:?}"
        );
    }
}

#[test]
fn child_bad_trace_path() {
    if is_child("child_bad_trace_path") {
        let v = goro::run(|| goro::go!(|| 42).join().unwrap());
        println!("result {v}");
    }
}

#[test]
fn bad_trace_path_is_reported_once_and_the_program_runs() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let out = run_child(
        "child_bad_trace_path",
        &[("GORO_TRACE", "/nonexistent-goro-dir/trace.json")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("result 42"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("GORO_TRACE"))
        .collect();
    assert_eq!(reports.len(), 1, "{stderr}");
    assert!(
        reports[0].contains("/nonexistent-goro-dir/trace.json"),
        "{stderr}"
    );
    assert!(reports[0].contains("tracing is off"), "{stderr}");
}

/// One captured `tracing` event or span: its message (or span name) and
/// fields, as text.
type Captured = BTreeMap<String, String>;

/// A subscriber that records every event and new span.
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut Captured);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut c = Captured::new();
        c.insert("message".into(), span.metadata().name().to_string());
        span.record(&mut Fields(&mut c));
        let mut all = self.0.lock().unwrap();
        all.push(c);
        tracing::span::Id::from_u64(all.len() as u64)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut c = Captured::new();
        event.record(&mut Fields(&mut c));
        self.0.lock().unwrap().push(c);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn child_tracing_events() {
    if !is_child("child_tracing_events") {
        return;
    }
    let captured = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(captured.clone())).unwrap();
    let receiver = goro::Runtime::builder().procs(2).build().unwrap().run(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let h = goro::go!(move || rx.recv().unwrap());
        let id = h.id();
        // Let the receiver park before the send readies it.
        goro::time::sleep(Duration::from_millis(20));
        tx.send(7).unwrap();
        assert_eq!(h.join().unwrap(), 7);
        goro::set_gomaxprocs(1);
        id
    });
    let all = captured.lock().unwrap();
    let find = |msg: &str, goid: Option<u64>| {
        all.iter().any(|c| {
            c.get("message").is_some_and(|m| m == msg)
                && goid.is_none_or(|g| c.get("goid") == Some(&g.to_string()))
        })
    };
    let g = Some(receiver);
    assert!(find("goro: spawn", g), "no spawn event for G{receiver}");
    let spawn = all
        .iter()
        .find(|c| c.get("message").is_some_and(|m| m == "goro: spawn"))
        .unwrap();
    assert!(spawn["site"].contains("tests/trace.rs:"), "{spawn:?}");
    assert!(
        all.iter()
            .any(|c| c.get("message").is_some_and(|m| m == "goro: park")
                && c.get("goid") == Some(&receiver.to_string())
                && c.get("reason").is_some_and(|r| r == "chan receive")),
        "no chan receive park for G{receiver}"
    );
    assert!(find("goro: ready", g), "no ready event for G{receiver}");
    assert!(
        all.iter().any(|c| c
            .get("message")
            .is_some_and(|m| m == "goro: GOMAXPROCS changed")
            && c.get("old").is_some_and(|v| v == "2")
            && c.get("new").is_some_and(|v| v == "1")),
        "no GOMAXPROCS event"
    );
    println!("tracing events checked");
}

#[test]
fn tracing_events_reach_a_subscriber() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let out = run_child("child_tracing_events", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("tracing events checked"));
}
