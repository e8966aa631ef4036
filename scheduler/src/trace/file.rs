//! The `GORO_TRACE` file: Chrome trace-event JSON, as ui.perfetto.dev and
//! chrome://tracing open it.
//!
//! The file is created when `run` starts (a path that cannot be created is
//! reported in one stderr line and tracing stays off) and written as a
//! stream: `{"traceEvents":[` first, then the Ms append their buffers
//! (`buffer.rs`) under one mutex, at most once per few thousand events,
//! and `run` closes the array when every M has stopped. Events:
//! - `ph:"M"` `thread_name` metadata naming each track (`pid` 1, `tid` the
//!   M id as in `scheddetail`; off-M events on [`OUTSIDE_TID`]);
//! - `ph:"X"` complete events, one per goroutine run (`ts`/`dur` in µs with
//!   nanosecond decimals), named `G<id>`;
//! - `ph:"i"` instants for spawn, park, wake, steal, P handoff and P count
//!   changes, with their details in `args`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::buffer::Record;
use super::Event;
use crate::sys::poison::Unpoisoned;

/// The `tid` of the track for events raised off the Ms.
pub(crate) const OUTSIDE_TID: usize = 1_000_000;

/// How many trace files are open (in any runtime of the process).
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Whether some runtime of this process writes a trace file.
#[inline]
pub(crate) fn recording() -> bool {
    OPEN.load(Ordering::Relaxed) != 0
}

/// An open trace file.
pub(crate) struct TraceFile {
    start: Instant,
    path: String,
    out: Mutex<Out>,
    /// Events raised off the Ms, written at the end.
    outside: Mutex<Vec<Record>>,
}

struct Out {
    w: BufWriter<File>,
    /// Whether an event was written (the next one needs a comma).
    any: bool,
    error: Option<io::Error>,
}

impl TraceFile {
    /// Opens the file `GORO_TRACE` names, if set.
    pub(crate) fn open_from_env() -> Option<Arc<TraceFile>> {
        let path = std::env::var_os("GORO_TRACE")?;
        let path = path.to_string_lossy().into_owned();
        match File::create(&path) {
            Ok(f) => {
                let file = TraceFile {
                    start: Instant::now(),
                    path,
                    out: Mutex::new(Out {
                        w: BufWriter::new(f),
                        any: false,
                        error: None,
                    }),
                    outside: Mutex::new(Vec::new()),
                };
                file.raw(r#"{"displayTimeUnit":"ns","traceEvents":["#);
                file.name_track(OUTSIDE_TID, "outside the Ms");
                OPEN.fetch_add(1, Ordering::Relaxed);
                Some(Arc::new(file))
            }
            Err(e) => {
                crate::sys::report::write_stderr(&format!(
                    "goro: GORO_TRACE={path}: cannot create the trace file: {e}; tracing is off\n"
                ));
                None
            }
        }
    }

    /// Nanoseconds since the trace started (monotonic).
    pub(crate) fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Writes the metadata event naming track `tid`.
    pub(crate) fn name_track(&self, tid: usize, name: &str) {
        let mut json = String::new();
        let _ = write!(
            json,
            r#"{{"name":"thread_name","ph":"M","pid":1,"tid":{tid},"args":{{"name":"{name}"}}}}"#
        );
        self.events(&[json]);
    }

    /// Writes the records of the M (or track) `tid`.
    pub(crate) fn write(&self, tid: usize, records: &[Record]) {
        if records.is_empty() {
            return;
        }
        let json: Vec<String> = records.iter().map(|r| event_json(tid, r)).collect();
        self.events(&json);
    }

    /// Records an event raised off the Ms.
    pub(crate) fn push_outside(&self, ev: Event) {
        let ts_ns = self.now_ns();
        lock(&self.outside).push(Record { ts_ns, ev });
    }

    /// Writes the off-M events, closes the JSON and flushes the file; a
    /// write error is reported in one stderr line. Call once every M has
    /// written its buffer.
    pub(crate) fn finish(&self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        let outside = std::mem::take(&mut *lock(&self.outside));
        self.write(OUTSIDE_TID, &outside);
        self.raw("]}\n");
        let mut out = lock(&self.out);
        let flushed = out.w.flush();
        if let Some(e) = out.error.take().or(flushed.err()) {
            crate::sys::report::write_stderr(&format!(
                "goro: GORO_TRACE={}: cannot write the trace file: {e}\n",
                self.path
            ));
        }
    }

    /// Appends events to the array, with the commas between them.
    fn events(&self, json: &[String]) {
        let mut out = lock(&self.out);
        for e in json {
            let sep = if out.any { ",\n" } else { "\n" };
            out.any = true;
            out.put(sep);
            out.put(e);
        }
    }

    fn raw(&self, text: &str) {
        lock(&self.out).put(text);
    }
}

impl Out {
    /// Writes `text`, keeping the first error (reported by `finish`).
    fn put(&mut self, text: &str) {
        if self.error.is_none() {
            if let Err(e) = self.w.write_all(text.as_bytes()) {
                self.error = Some(e);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock_unpoisoned()
}

/// One record as a trace event of track `tid`.
fn event_json(tid: usize, r: &Record) -> String {
    let ts = Micros(r.ts_ns);
    let mut s = String::with_capacity(160);
    let _ = match r.ev {
        Event::Run { goid, dur_ns, end } => write!(
            s,
            r#"{{"name":"G{goid}","cat":"run","ph":"X","pid":1,"tid":{tid},"ts":{ts},"dur":{},"args":{{"goid":{goid},"end":"{}"}}}}"#,
            Micros(dur_ns),
            end.as_str()
        ),
        Event::Spawn {
            parent,
            child,
            site,
        } => write!(
            s,
            r#"{{"name":"spawn","cat":"spawn","ph":"i","s":"t","pid":1,"tid":{tid},"ts":{ts},"args":{{"goid":{child},"parent":{parent},"site":"{}"}}}}"#,
            JsonStr(&site.to_string())
        ),
        Event::Park { goid, reason } => write!(
            s,
            r#"{{"name":"park","cat":"park","ph":"i","s":"t","pid":1,"tid":{tid},"ts":{ts},"args":{{"goid":{goid},"reason":"{}"}}}}"#,
            reason.as_str()
        ),
        Event::Wake { goid, by, runnext } => write!(
            s,
            r#"{{"name":"wake","cat":"wake","ph":"i","s":"t","pid":1,"tid":{tid},"ts":{ts},"args":{{"goid":{goid},"by":{by},"runnext":{runnext}}}}}"#
        ),
        Event::Steal { victim, goid } => write!(
            s,
            r#"{{"name":"steal","cat":"steal","ph":"i","s":"t","pid":1,"tid":{tid},"ts":{ts},"args":{{"goid":{goid},"victim":{victim}}}}}"#
        ),
        Event::Handoff { from } => write!(
            s,
            r#"{{"name":"P handoff","cat":"procs","ph":"i","s":"g","pid":1,"tid":{tid},"ts":{ts},"args":{{"m":{from}}}}}"#
        ),
        Event::Procs { old, new } => write!(
            s,
            r#"{{"name":"GOMAXPROCS","cat":"procs","ph":"i","s":"g","pid":1,"tid":{tid},"ts":{ts},"args":{{"old":{old},"new":{new}}}}}"#
        ),
    };
    s
}

/// Nanoseconds printed as microseconds with three decimals (exact).
struct Micros(u64);

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// A string's JSON escape (without the quotes).
struct JsonStr<'a>(&'a str);

impl std::fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{JsonStr, Micros};

    #[test]
    fn micros_keep_every_nanosecond() {
        assert_eq!(Micros(0).to_string(), "0.000");
        assert_eq!(Micros(1_234_567).to_string(), "1234.567");
        assert_eq!(Micros(5).to_string(), "0.005");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(JsonStr("a\"b\\c\nd").to_string(), "a\\\"b\\\\c\\u000ad");
    }
}
