//! The held-thread report: a goroutine that keeps its thread outside the
//! runtime (a system call made without `goro::blocking`, a sync database
//! driver, a C library, a long computation without runtime calls) while
//! other goroutines wait for that thread.
//!
//! goro never moves a started goroutine to another thread (that is what
//! makes it sound), so the goroutines homed on a held thread cannot run
//! until it is given back: Java calls this pinning. sysmon already watches
//! every M's running goroutine for preemption; when one has run for the
//! threshold (`GODEBUG=blockedthread=MS`, default 100 ms; 0 turns the report
//! off) without returning to the scheduler, and at least one goroutine is
//! queued for its thread, this prints once per spawn site, on stderr: the
//! goroutine's id, its spawn site, how many goroutines wait for the thread,
//! its stack at that moment (`thread_stack.rs`: captured by sysmon on the
//! held thread, then symbolized and printed by a short-lived thread, since
//! symbolizing takes a lock the held goroutine may hold), and what to do
//! instead. A goroutine inside a goroutine dump holds its thread on
//! purpose and is left alone.
//! A goroutine computing alone on its M (nothing waiting) is never reported.
//! It costs nothing on the goroutines' paths: sysmon reads what it reads
//! for preemption already.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::panic::Location;
use std::time::Duration;

use crate::monitor::dump::frames::{write_go_frames, Frame, Symbolizer};
use crate::monitor::thread_stack;
use crate::sched::m::M;
use crate::sched::Sched;

/// What the report remembers: the threshold and the sites reported.
pub(crate) struct HeldWatch {
    threshold: Option<Duration>,
    reported: HashSet<usize>,
    /// The threads printing reports, joined when sysmon stops (so a report
    /// is not lost to the process ending).
    reporters: Vec<std::thread::JoinHandle<()>>,
}

impl HeldWatch {
    /// The watch as `GODEBUG` sets it.
    pub(crate) fn from_godebug() -> HeldWatch {
        HeldWatch {
            threshold: crate::config::env().godebug.blockedthread,
            reported: HashSet::new(),
            reporters: Vec::new(),
        }
    }

    /// sysmon, for an M whose goroutine `goid` has run for `ran` without
    /// returning to the scheduler: reports it if it is over the threshold,
    /// goroutines wait for its thread, and its site was not reported yet.
    /// Returns whether this time slice is dealt with (reported, or its site
    /// was); until then sysmon asks again each round, which costs a few
    /// loads while the threshold is not reached or nobody waits.
    pub(crate) fn check(&mut self, sched: &Sched, m: &M, goid: u64, ran: Duration) -> bool {
        let Some(threshold) = self.threshold else {
            return true;
        };
        let waiting = m.waiting_for_thread();
        if ran < threshold || waiting == 0 || m.in_long_runtime_call() {
            return false;
        }
        let Some(site) = spawn_site(sched, goid) else {
            return true;
        };
        if !self
            .reported
            .insert(site as *const Location<'static> as usize)
        {
            return true;
        }
        // The capture is made here, while the goroutine holds its thread
        // (so the thread is alive to signal): it waits for that thread's
        // handler, a bounded time, once per spawn site. Symbolizing and
        // printing go to another thread: they take the backtrace crate's
        // lock, which the held goroutine itself may hold, and sysmon must
        // never wait for a goroutine.
        let tick = m.schedtick();
        let addrs = (m.running_goid() == goid)
            .then(|| thread_stack::capture(m.os_thread()))
            .flatten();
        // The same time slice of the same goroutine throughout: the stack
        // is its own.
        let addrs = addrs.filter(|_| m.running_goid() == goid && m.schedtick() == tick);
        let id = m.id();
        let reporter = std::thread::Builder::new()
            .name("goro-held-report".into())
            .spawn(move || {
                let frames = addrs.map(|a| interrupted(Symbolizer::default().frames(&a)));
                let text = report(goid, site, id, ran, waiting, frames.as_deref());
                crate::sys::report::write_stderr(&text);
            });
        self.reporters.extend(reporter);
        true
    }

    /// sysmon, as it stops: waits for the reports being printed.
    pub(crate) fn finish(self) {
        for r in self.reporters {
            let _ = r.join();
        }
    }
}

/// The spawn site of goroutine `goid`, if it still runs.
fn spawn_site(sched: &Sched, goid: u64) -> Option<&'static Location<'static>> {
    sched.with_all_gs(|gs| {
        gs.iter().find_map(|g| {
            // SAFETY: the registry's Gs stay allocated while it is read.
            let g = unsafe { g.get() };
            (g.id() == goid).then(|| g.spawn_site())
        })
    })
}

/// The frames of the interrupted code: those below the signal handler and
/// the kernel's return trampoline (which has no symbol: an address).
fn interrupted(mut frames: Vec<Frame>) -> Vec<Frame> {
    let below_handler = frames
        .iter()
        .rposition(|f| f.function.contains("thread_stack::on_sigurg"))
        .map_or(0, |i| i + 1);
    let mut frames = frames.split_off(below_handler.min(frames.len()));
    let trampolines = frames
        .iter()
        .take_while(|f| f.function == "__restore_rt" || f.function.starts_with("0x"))
        .count();
    frames.drain(..trampolines);
    frames
}

fn report(
    goid: u64,
    site: &'static Location<'static>,
    m: usize,
    ran: Duration,
    waiting: usize,
    frames: Option<&[Frame]>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "goro: goroutine {goid} has held its thread (M{m}) for {} ms outside the runtime, \
         while {waiting} goroutine{} wait{} for that thread; it was started at {site}",
        ran.as_millis(),
        if waiting == 1 { "" } else { "s" },
        if waiting == 1 { "s" } else { "" },
    );
    match frames {
        Some(frames) => {
            let _ = writeln!(out, "goroutine {goid} [running]:");
            write_go_frames(&mut out, frames, site);
        }
        None => out.push_str("(its stack could not be read)\n"),
    }
    out.push_str(
        "goroutines never change thread, so those homed on a held thread cannot run until \
         it is given back: make blocking calls through goro::blocking(|| ...) or goro's own \
         APIs (goro::time::sleep, goro::fs, goro::net, goro::process), and call \
         goro::preempt_point() in long computations. This report is printed once per spawn \
         site; GODEBUG=blockedthread=0 turns it off.\n",
    );
    out
}
