//! Per-M event buffers for `GORO_TRACE`.
//!
//! Each M owns one [`MTrace`] (a field of its `MLocal`): a plain `Vec` of
//! compact records behind a `RefCell`, touched only by that M's thread (by
//! the scheduler loop and by the goroutines it runs), so recording is a
//! clock read and a push. When the buffer holds [`FLUSH_AT`] records, the
//! M writes them to the file itself, between two goroutines (never from a
//! goroutine's stack), and when the M exits it writes the rest.

use std::cell::RefCell;
use std::sync::Arc;

use super::{Event, RunEnd, TraceFile};

/// Records an M buffers before writing them out.
const FLUSH_AT: usize = 16 * 1024;

/// One event and when it happened (nanoseconds since the trace started).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    pub ts_ns: u64,
    pub ev: Event,
}

/// The trace buffer of one M.
pub(crate) struct MTrace {
    file: Arc<TraceFile>,
    m: usize,
    records: RefCell<Vec<Record>>,
}

impl MTrace {
    /// The buffer of M `m`; names the M's track in the file.
    pub(crate) fn new(file: Arc<TraceFile>, m: usize) -> MTrace {
        file.name_track(m, &format!("M{m}"));
        MTrace {
            file,
            m,
            records: RefCell::new(Vec::with_capacity(FLUSH_AT)),
        }
    }

    /// Nanoseconds since the trace started.
    pub(crate) fn now(&self) -> u64 {
        self.file.now_ns()
    }

    pub(crate) fn writes_to(&self, file: &Arc<TraceFile>) -> bool {
        Arc::ptr_eq(&self.file, file)
    }

    /// Goroutine `goid` is named `name` (`GoBuilder::name`).
    pub(crate) fn name_goroutine(&self, goid: u64, name: Arc<str>) {
        self.file.name_goroutine(goid, name);
    }

    /// Records `ev` as happening now.
    pub(crate) fn push(&self, ev: Event) {
        let ts_ns = self.now();
        self.records.borrow_mut().push(Record { ts_ns, ev });
    }

    /// Records a run slice that began at `start`, and writes the buffer out
    /// if it is full.
    pub(crate) fn end_run(&self, goid: u64, start: u64, end: RunEnd) {
        let dur_ns = self.now().saturating_sub(start);
        let mut records = self.records.borrow_mut();
        records.push(Record {
            ts_ns: start,
            ev: Event::Run { goid, dur_ns, end },
        });
        if records.len() >= FLUSH_AT {
            self.file.write(self.m, &records);
            records.clear();
        }
    }
}

impl Drop for MTrace {
    fn drop(&mut self) {
        self.file.write(self.m, self.records.get_mut());
    }
}
