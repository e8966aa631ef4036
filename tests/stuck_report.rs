//! sysmon reports, through `tracing`, an M stuck in a call that never
//! returns to the runtime.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Collects the messages of WARN events (a minimal subscriber).
struct Collect(Arc<Mutex<Vec<String>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        *m.level() <= Level::WARN
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut m = Message(String::new());
        e.record(&mut m);
        self.0.lock().unwrap().push(m.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn a_goroutine_running_over_a_second_without_runtime_calls_is_reported() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Collect(events.clone())).unwrap();
    goro::run(|| {
        goro::go!(|| {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(1300) {
                std::hint::spin_loop();
            }
        })
        .join()
        .unwrap();
    });
    let events = events.lock().unwrap();
    assert!(
        events.iter().any(|m| m.contains("without a runtime call")),
        "no stuck-M report in {events:?}"
    );
}
