//! The runtime: its configuration (`Builder`) and the life of one `run`.
//! This is the only file that wires the monitors (sysmon, SIGQUIT dumps,
//! the leak report) to the scheduler.
//!
//! `Runtime::run(f)` turns the calling thread into M0 (the worker of P0),
//! starts one more M per extra P plus sysmon, and runs `f` as the main
//! goroutine, pinned to M0 (so `f` and its result need not be `Send`).
//! When the main goroutine returns, the runtime shuts down as Go's process
//! exit would, but without leaking: every M unwinds the goroutines homed on
//! it, on its own thread, after in-flight `blocking` calls finished; M0 then
//! joins the Ms, sysmon and the blocking pool, frees every G and returns the
//! stacks to the runtime's pool, which the next `run` reuses.

use std::io;
use std::sync::Arc;

use goro_stack::{PoolConfig, StackPool};

use crate::blocking::DEFAULT_MAX_BLOCKING_THREADS;
use crate::config::procs::{self, ProcsSource};
use crate::config::{self, MAX_PROCS};
use crate::g::panic::UnhandledPanic;
use crate::g::task::Pinned;
use crate::monitor::{leaks, sigquit, sysmon};
use crate::sched::current::{self, Current};
use crate::sched::handle::{Door, Handle};
use crate::sched::m::MLocal;
use crate::sched::{schedule, Sched, SchedConfig};

/// Configures a [`Runtime`]: `goro::Runtime::builder().procs(4).build()`.
#[derive(Debug, Clone)]
pub struct Builder {
    procs: Option<usize>,
    stack_size: Option<usize>,
    max_blocking_threads: usize,
    unhandled_panic: UnhandledPanic,
    pool: PoolConfig,
    under_test_harness: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            procs: None,
            stack_size: None,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            unhandled_panic: UnhandledPanic::Ignore,
            pool: PoolConfig::default(),
            under_test_harness: false,
        }
    }
}

impl Builder {
    /// The defaults: the P count and stack size from the environment (or
    /// the machine), 512 blocking threads, unhandled panics printed.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Number of Ps (GOMAXPROCS); automatic updates are then off.
    /// Default: `GOMAXPROCS`, else the CPUs available lowered to the cgroup
    /// CPU limit, followed as they change (docs/gomaxprocs.md).
    pub fn procs(mut self, n: usize) -> Builder {
        self.procs = Some(n);
        self
    }

    /// Default usable stack size of goroutines, in bytes. Default:
    /// `GORO_STACK_SIZE`, else 256 KiB (release) / 1 MiB (debug).
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Cap on helper threads for [`blocking`](crate::blocking) (default 512).
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// What a panic that ends a goroutine other than the main one does to
    /// the program: [`UnhandledPanic::Ignore`] (the default, std's rule for
    /// threads: it is printed, and whoever joins the goroutine gets it as a
    /// [`Panic`](crate::Panic)) or [`UnhandledPanic::Exit`] (Go's rule: it is
    /// printed and the process exits with status 2 at once, joined or not).
    /// A panic of the main goroutine is resumed in `run`'s caller either way.
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// For `#[goro::test]`: the runtime runs inside libtest, whose other
    /// threads (the harness's main thread, other tests' runtimes) cannot
    /// wake its goroutines; deadlock detection sets them aside
    /// (`monitor/deadlock.rs`), so a deadlocked test fails with the report
    /// instead of hanging.
    #[doc(hidden)]
    pub fn under_test_harness(mut self) -> Builder {
        self.under_test_harness = true;
        self
    }

    /// Test switch: use `mprotect` guard pages under a VMA budget, as on a
    /// kernel older than 6.13, optionally with a given budget (in stacks).
    #[doc(hidden)]
    pub fn force_mprotect_guards(mut self, budget: Option<usize>) -> Builder {
        self.pool.force_mprotect_guards = true;
        self.pool.vma_budget_override = budget;
        self
    }

    /// The configured runtime; an error names a setting out of range (the
    /// P count, the stack size) or a stack pool that cannot be mapped.
    pub fn build(self) -> io::Result<Runtime> {
        let (procs, procs_source) = match self.procs {
            Some(n) => (n, ProcsSource::Explicit),
            None => config::initial_procs(|| procs::detect().procs),
        };
        if procs == 0 || procs > MAX_PROCS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("goro: procs must be between 1 and {MAX_PROCS}, got {procs}"),
            ));
        }
        let stack_size = match self.stack_size {
            Some(s) => goro_stack::parse_stack_size(&s.to_string()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("goro: stack_size: {e}"),
                )
            })?,
            None => config::default_stack_size(),
        };
        let stacks = StackPool::new(self.pool)?;
        Ok(Runtime {
            door: Door::new(stack_size),
            config: SchedConfig {
                procs,
                procs_source,
                stack_size,
                max_blocking_threads: self.max_blocking_threads,
                unhandled_panic: self.unhandled_panic,
                stacks: Arc::new(stacks),
                under_test_harness: self.under_test_harness,
            },
        })
    }
}

/// A configured runtime. `run` may be called any number of times; stacks
/// are kept between runs.
pub struct Runtime {
    config: SchedConfig,
    /// Where `Runtime::handle`'s handles reach its runs (`sched/handle.rs`).
    door: Arc<Door>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.door.close();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("procs", &self.config.procs)
            .field("stack_size", &self.config.stack_size)
            .finish()
    }
}

impl Runtime {
    /// A [`Builder`] with the defaults (`Builder::new`).
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A handle to this runtime, from any thread, before or while `run`
    /// runs: goroutines given to it before the first `run` start when that
    /// run starts; after a run has returned, the runtime is gone (the
    /// handle's `go` yields a `JoinHandle` that is `Err` at once). See
    /// [`Handle`].
    pub fn handle(&self) -> Handle {
        Handle::of_runtime(self.door.clone())
    }

    /// Runs `main` as the main goroutine and returns its result. Goroutines
    /// still running when it returns are abandoned (unwound), as in Go.
    /// A panic in `main` is resumed in the caller after shutdown.
    ///
    /// # Panics
    /// When called from inside a goroutine.
    #[track_caller]
    pub fn run<F, R>(&self, main: F) -> R
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        if !matches!(current::get(), Current::None) {
            panic!("goro: Runtime::run called from inside a goroutine or a runtime thread; use go! to start more goroutines");
        }
        crate::g::panic::install_hook();
        goro_stack::install_overflow_handler();
        let _signal_stack = goro_stack::ensure_signal_stack();
        let sched = Sched::new(&self.config);
        let _sigquit = sigquit::register(&sched);
        let (m0, fresh0) = sched.new_m(0);
        // Numbered like Go's: M0 runs `main`, M1 is sysmon.
        sched.sysmon().set_m_id(sched.next_m_id());
        for p in 1..self.config.procs {
            sched.start_m(p);
        }
        let sysmon = {
            let s = sched.clone();
            std::thread::Builder::new()
                .name("goro-sysmon".into())
                .spawn(move || sysmon::sysmon_main(s))
                .expect("goro: cannot start the sysmon thread")
        };
        let local = MLocal::new(m0, sched.clone(), fresh0);
        let prev = current::set(Current::M(&local));
        let main_handle = {
            let sched = sched.clone();
            let main = Pinned(main);
            let guard = ShutdownOnDrop(sched);
            let spawned = crate::sched::spawn::spawn_pinned(
                &local,
                std::panic::Location::caller(),
                move || {
                    let _guard = guard;
                    Pinned(main.call())
                },
            );
            // A `match`: a closure would lose `#[track_caller]`.
            match spawned {
                Ok(handle) => handle,
                Err(e) => panic!("{e}"),
            }
        };
        sched.set_main_goid(main_handle.id());
        let _door = self.door.open(&sched, &local);
        schedule::schedule_loop(&local);
        crate::sched::shutdown::shutdown_m(&local);
        local.m.thread_exited();
        sched.join_threads();
        let _ = sysmon.join();
        sched.blocking().shutdown();
        sched.free_goroutines(&local);
        current::set(prev);
        drop(local);
        if let Some(trace) = sched.trace_file() {
            trace.finish();
        }
        match main_handle.join() {
            Ok(Pinned(r)) => r,
            Err(p) => p.resume(),
        }
    }
}

/// Starts the shutdown when the main goroutine ends (normally or by panic).
struct ShutdownOnDrop(Arc<Sched>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        leaks::report_at_exit(&self.0);
        self.0.begin_shutdown();
    }
}
