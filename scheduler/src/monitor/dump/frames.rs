//! Frames as goroutine dumps print them, in Go's format:
//!
//! ```text
//! goro_runtime::chan::Receiver<T>::recv(...)
//!     /src/goro/runtime/src/chan/mod.rs:123
//! observe::parked_in_recv(...)
//!     /src/goro/tests/observe.rs:40
//! ```
//!
//! (the location line starts with a tab). Both kinds of stack go through
//! here: the dumping goroutine's own (`current_thread`, walked by the
//! `backtrace` crate on this thread) and a parked goroutine's (walked from
//! its park frame by `stackwalk`). Each is a list of code addresses,
//! symbolized by `backtrace::resolve` (demangled names without the hash,
//! file and line from the debug info; an inlined call is a frame of its
//! own, as in Go; each address is resolved once per dump), then cut to
//! what the user wants to see: the top frames that belong to the dump or
//! to the scheduler's park are dropped, and the list ends above the
//! goroutine's entry (the task and corosensei frames, and std's
//! `catch_unwind` glue right above them), after at most `MAX_FRAMES`
//! frames (Go's `...additional frames elided...`).

use std::collections::HashMap;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::panic::Location;

/// The most frames a goroutine's stack shows (Go prints 100).
pub(crate) const MAX_FRAMES: usize = 100;
/// The most code addresses a walk collects: the frames shown plus room for
/// the hidden ones above them.
pub(crate) const WALK_LIMIT: usize = MAX_FRAMES + 32;

/// A code address found on a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeAddress {
    /// Where the innermost frame stopped (the park frame's instruction;
    /// only the x86_64 unwinder starts from one).
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )]
    Exact(u64),
    /// A return address: the call is the instruction before it.
    Return(u64),
}

impl CodeAddress {
    /// An address inside the instruction that the frame was executing.
    fn lookup(self) -> u64 {
        match self {
            CodeAddress::Exact(a) => a,
            CodeAddress::Return(a) => a.saturating_sub(1),
        }
    }
}

/// One source-level frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub function: String,
    /// `file:line`, when the debug info has it.
    pub location: Option<String>,
}

/// The calling thread's stack, innermost first (at most `WALK_LIMIT`).
pub(crate) fn current_thread() -> Vec<CodeAddress> {
    let mut addrs = Vec::new();
    backtrace::trace(|frame| {
        addrs.push(CodeAddress::Return(frame.ip() as u64));
        addrs.len() < WALK_LIMIT
    });
    addrs
}

/// Symbolizes code addresses, remembering each one: a dump's goroutines
/// mostly park at the same few places.
#[derive(Default)]
pub(crate) struct Symbolizer {
    known: HashMap<u64, Vec<Frame>>,
}

impl Symbolizer {
    /// The source-level frames at `addrs`, innermost first.
    pub(crate) fn frames(&mut self, addrs: &[CodeAddress]) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(addrs.len());
        for a in addrs {
            let at = a.lookup();
            frames.extend_from_slice(self.known.entry(at).or_insert_with(|| resolve(at)));
        }
        frames
    }
}

/// The frames of the instruction at `addr` (more than one where calls
/// were inlined there, innermost first).
fn resolve(addr: u64) -> Vec<Frame> {
    let mut frames = Vec::new();
    backtrace::resolve(addr as usize as *mut c_void, |s| {
        frames.push(Frame {
            function: s
                .name()
                .map_or_else(|| "?".to_string(), |n| format!("{n:#}")),
            location: s
                .filename()
                .zip(s.lineno())
                .map(|(file, line)| format!("{}:{line}", file.display())),
        });
    });
    if frames.is_empty() {
        frames.push(Frame {
            function: format!("{addr:#x}"),
            location: None,
        });
    }
    frames
}

/// The dumping goroutine's frames below the dump itself: those after the
/// frames of `dump_goroutines`.
pub(crate) fn callers_of_dump(frames: &[Frame]) -> &[Frame] {
    let is_dump = |f: &Frame| f.function.ends_with("::dump_goroutines");
    let start = frames.iter().position(is_dump).unwrap_or(frames.len());
    let callers = frames[start..].iter().position(|f| !is_dump(f));
    &frames[callers.map_or(frames.len(), |c| start + c)..]
}

/// A parked goroutine's frames without the scheduler's own on top (`park`,
/// `sleep_until`, ...): they start at its first frame outside
/// `goro_scheduler`.
pub(crate) fn below_park(frames: &[Frame]) -> &[Frame] {
    let start = frames.iter().position(|f| !is_scheduler(&f.function));
    &frames[start.unwrap_or(frames.len())..]
}

fn is_scheduler(function: &str) -> bool {
    function.starts_with("goro_scheduler::") || function.starts_with("<goro_scheduler::")
}

/// Whether `function` runs the goroutine rather than being part of it.
fn is_goroutine_entry(function: &str) -> bool {
    function.contains("goro_scheduler::g::task::") || function.starts_with("corosensei::")
}

/// Whether `function` is std's glue between the goroutine's entry and its
/// closure (`catch_unwind`, `FnOnce::call_once`, ...).
fn is_std_glue(function: &str) -> bool {
    ["core::", "std::", "alloc::", "__rust"].iter().any(|p| {
        function.starts_with(p) || function.strip_prefix('<').is_some_and(|f| f.starts_with(p))
    })
}

/// The goroutine's own frames: those above its entry, without the std glue
/// right above it (all of `frames` if the walk did not reach the entry).
fn goroutine_frames(frames: &[Frame]) -> &[Frame] {
    match frames.iter().position(|f| is_goroutine_entry(&f.function)) {
        Some(entry) => {
            let own = frames[..entry]
                .iter()
                .rposition(|f| !is_std_glue(&f.function));
            &frames[..own.map_or(0, |i| i + 1)]
        }
        None => frames,
    }
}

/// Writes `frames` in Go's format, down to the goroutine's entry. The
/// entry frame of a goroutine started by `go!(f(a, b))` is the closure
/// `go!` builds, whose debug info points into goro's `go_macro.rs`; it is
/// the user's code, written at the spawn site `site`, so that is what it
/// shows.
pub(crate) fn write_go_frames(out: &mut String, frames: &[Frame], site: &Location<'static>) {
    let own = goroutine_frames(frames);
    for (i, f) in own.iter().enumerate().take(MAX_FRAMES) {
        let _ = writeln!(out, "{}(...)", f.function);
        let in_go_macro = f
            .location
            .as_deref()
            .and_then(|at| at.rsplit_once(':'))
            .is_some_and(|(file, _)| file.ends_with("src/go_macro.rs"));
        if i + 1 == own.len() && in_go_macro {
            let _ = writeln!(out, "\t{}:{}", site.file(), site.line());
        } else if let Some(at) = &f.location {
            let _ = writeln!(out, "\t{at}");
        }
    }
    if own.len() > MAX_FRAMES {
        out.push_str("...additional frames elided...\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, location: Option<&str>) -> Frame {
        Frame {
            function: function.to_string(),
            location: location.map(str::to_string),
        }
    }

    fn go_frames(frames: &[Frame]) -> String {
        let mut out = String::new();
        write_go_frames(&mut out, frames, Location::caller());
        out
    }

    #[test]
    fn a_go_closure_entry_shows_its_spawn_site() {
        let site = Location::caller();
        let frames = [
            frame("app::wait_for_order", Some("/src/app/main.rs:25")),
            frame(
                "app::main::{{closure}}::{{closure}}",
                Some("/home/u/.cargo/registry/goro-runtime-0.1.0/src/go_macro.rs:56"),
            ),
            frame("goro_scheduler::g::task::TaskCell<F,T>::run", None),
        ];
        let mut out = String::new();
        write_go_frames(&mut out, &frames, site);
        assert_eq!(
            out,
            format!(
                "app::wait_for_order(...)\n\t/src/app/main.rs:25\n\
                 app::main::{{{{closure}}}}::{{{{closure}}}}(...)\n\t{}:{}\n",
                site.file(),
                site.line()
            )
        );
    }

    #[test]
    fn the_dumps_caller_comes_first() {
        let frames = [
            frame("backtrace::backtrace::trace", None),
            frame(
                "goro_scheduler::monitor::dump::frames::current_thread",
                None,
            ),
            frame(
                "goro_scheduler::dump_goroutines",
                Some("scheduler/src/lib.rs:80"),
            ),
            frame(
                "goro_runtime::dump_goroutines",
                Some("runtime/src/lib.rs:9"),
            ),
            frame("observe::worker", Some("tests/observe.rs:12")),
            frame("std::panicking::catch_unwind", None),
            frame("goro_scheduler::g::task::TaskCell::run", Some("task.rs:1")),
            frame("corosensei::coroutine::on_stack", None),
        ];
        let callers = callers_of_dump(&frames);
        assert_eq!(callers[0].function, "observe::worker");
        assert_eq!(
            go_frames(callers),
            "observe::worker(...)\n\ttests/observe.rs:12\n"
        );
        assert!(callers_of_dump(&frames[..2]).is_empty());
    }

    #[test]
    fn the_parks_frames_are_hidden() {
        let frames = [
            frame("goro_scheduler::sched::park::park", Some("park.rs:190")),
            frame("goro_scheduler::time::timers::sleep_until", Some("timer.rs:40")),
            frame("goro_runtime::time::sleep", Some("time.rs:30")),
            frame("<goro_scheduler::sys::lock::Lock<T>>::lock", None),
            frame("observe::sleeper::{{closure}}", None),
            frame("core::ops::function::FnOnce::call_once", None),
            frame("<core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once", None),
            frame("std::panicking::catch_unwind", None),
            frame("goro_scheduler::g::task::TaskCell<F,T>::run", None),
            frame("corosensei::coroutine::on_stack", None),
            frame("observe::never_shown", None),
        ];
        assert_eq!(
            go_frames(below_park(&frames)),
            "goro_runtime::time::sleep(...)\n\ttime.rs:30\n\
             <goro_scheduler::sys::lock::Lock<T>>::lock(...)\n\
             observe::sleeper::{{closure}}(...)\n"
        );
        assert!(below_park(&frames[..2]).is_empty());
        // A walk that did not reach the entry shows all it found.
        assert!(go_frames(&frames[..6]).ends_with("core::ops::function::FnOnce::call_once(...)\n"));
    }

    #[test]
    fn deep_stacks_are_elided() {
        let frames = vec![frame("deep::recurse", Some("deep.rs:3")); MAX_FRAMES + 5];
        let out = go_frames(&frames);
        assert_eq!(
            out.matches("deep::recurse(...)\n\tdeep.rs:3\n").count(),
            MAX_FRAMES
        );
        assert!(
            out.ends_with("deep.rs:3\n...additional frames elided...\n"),
            "{out}"
        );
        let exact = go_frames(&frames[..MAX_FRAMES]);
        assert!(!exact.contains("elided"), "{exact}");
    }

    #[test]
    fn symbolizes_this_thread_and_remembers() {
        let mut symbols = Symbolizer::default();
        let frames = symbols.frames(&current_thread());
        assert!(
            frames.iter().any(
                |f| f.function.ends_with("symbolizes_this_thread_and_remembers")
                    && f.location
                        .as_deref()
                        .is_some_and(|l| l.contains("frames.rs:"))
            ),
            "{frames:#?}"
        );
        // An address in no function still gets a frame.
        assert_eq!(
            symbols.frames(&[CodeAddress::Exact(16)])[0].function,
            "0x10"
        );
        // Remembered: the same frames again.
        assert_eq!(
            symbols.frames(&current_thread()[..1]),
            symbols.frames(&current_thread()[..1])
        );
    }
}
