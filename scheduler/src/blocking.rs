//! `blocking(f)`: run a call that blocks the OS thread without stalling a P.
//!
//! The goroutine hands `f` to a helper thread and parks; its M goes on
//! running other goroutines. `f` may borrow from the goroutine's stack: the
//! goroutine stays parked, and its stack in place, until `f` has returned,
//! and runtime shutdown waits for calls in flight before it unwinds any
//! goroutine. A panic in `f` is carried back and resumed in the goroutine.
//!
//! The pool grows on demand up to `max_blocking_threads` (default 512, as
//! Tokio's); calls beyond that queue. A helper idle for 10 s exits, so an
//! idle runtime keeps no helper threads around.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::g::wait_reason::WaitReason;
use crate::sched::current::{self, Current};
use crate::sched::park::{self, Waiter};
use crate::sched::Sched;
use crate::sys::poison::Unpoisoned;

pub const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A type-erased call living on a parked goroutine's stack.
struct Job {
    call: unsafe fn(*mut ()),
    data: *mut (),
    waiter: Waiter,
}

// SAFETY: `data` points to a `Call<F, R>` with `F: Send, R: Send` on the
// stack of a goroutine that stays parked until the job is done, so the
// helper thread has exclusive use of it meanwhile.
unsafe impl Send for Job {}

pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    cond: Condvar,
    max_threads: usize,
    /// Calls submitted and not yet finished (shutdown waits for 0).
    pub in_flight: AtomicUsize,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
    handles: Vec<std::thread::JoinHandle<()>>,
    /// Kernel thread ids of the live helpers (see `deadlock.rs`).
    tids: Vec<i32>,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                shutdown: false,
                handles: Vec::new(),
                tids: Vec::new(),
            }),
            cond: Condvar::new(),
            max_threads: max_threads.max(1),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock_unpoisoned()
    }

    fn submit(&self, sched: &std::sync::Arc<Sched>, job: Job) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let mut st = self.lock();
        st.queue.push_back(job);
        if st.idle > 0 {
            self.cond.notify_one();
        } else if st.threads < self.max_threads {
            st.threads += 1;
            let sched = sched.clone();
            let spawned = std::thread::Builder::new()
                .name("goro-blocking".into())
                .spawn(move || helper_main(sched));
            match spawned {
                Ok(h) => st.handles.push(h),
                Err(e) => {
                    st.threads -= 1;
                    if st.threads == 0 {
                        crate::sys::report::fatal(format_args!(
                            "cannot start a blocking helper thread: {e}"
                        ));
                    }
                }
            }
        }
    }

    /// Live helper threads, and how many of them are idle.
    pub(crate) fn thread_counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.threads, st.idle)
    }

    /// The kernel thread ids of the live helpers.
    pub(crate) fn helper_tids(&self) -> Vec<i32> {
        self.lock().tids.clone()
    }

    /// Stops the helpers (after every call finished) and joins them.
    pub(crate) fn shutdown(&self) {
        let handles = {
            let mut st = self.lock();
            st.shutdown = true;
            std::mem::take(&mut st.handles)
        };
        self.cond.notify_all();
        for h in handles {
            let _ = h.join();
        }
    }
}

fn helper_main(sched: std::sync::Arc<Sched>) {
    let prev = current::set(Current::Helper(std::sync::Arc::as_ptr(&sched)));
    let pool = &sched.blocking();
    let tid = crate::sys::thread::gettid();
    let mut st = pool.lock();
    st.tids.push(tid);
    loop {
        if let Some(job) = st.queue.pop_front() {
            drop(st);
            // SAFETY: see `Job`; the call runs once.
            unsafe { (job.call)(job.data) };
            pool.in_flight.fetch_sub(1, Ordering::SeqCst);
            // SAFETY: the goroutine registered this waiter for this one park.
            unsafe { job.waiter.wake() };
            st = pool.lock();
            continue;
        }
        if st.shutdown {
            break;
        }
        st.idle += 1;
        let (guard, timeout) = pool
            .cond
            .wait_timeout(st, IDLE_TIMEOUT)
            .unwrap_or_else(|e| e.into_inner());
        st = guard;
        st.idle -= 1;
        if timeout.timed_out() && st.queue.is_empty() {
            break;
        }
    }
    st.threads -= 1;
    st.tids.retain(|&t| t != tid);
    drop(st);
    current::set(prev);
}

struct Call<F, R> {
    f: Option<F>,
    out: Option<std::thread::Result<R>>,
}

unsafe fn run_call<F: FnOnce() -> R, R>(data: *mut ()) {
    // SAFETY: `data` is the `Call<F, R>` that `blocking` built for this job.
    let call = unsafe { &mut *(data as *mut Call<F, R>) };
    if let Some(f) = call.f.take() {
        call.out = Some(std::panic::catch_unwind(AssertUnwindSafe(f)));
    }
}

/// Runs `f`, which may block the OS thread, without blocking the P: in a
/// goroutine, `f` runs on a helper thread while the goroutine parks and its
/// M runs other goroutines. Outside a goroutine, `f` just runs here.
pub fn blocking<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    let sched = match current::m() {
        Some(l) if l.current.get().is_some() => {
            l.m.note_syscall();
            l.sched.clone()
        }
        _ => return f(),
    };
    crate::preempt_point();
    let mut call = Call {
        f: Some(f),
        out: None,
    };
    let job = Job {
        call: run_call::<F, R>,
        data: &mut call as *mut Call<F, R> as *mut (),
        waiter: park::current_waiter(),
    };
    sched.blocking().submit(&sched, job);
    park::park(WaitReason::Blocking);
    match call.out.take() {
        Some(Ok(r)) => r,
        Some(Err(payload)) => std::panic::resume_unwind(payload),
        None => unreachable!("goro: blocking call woke before it ran"),
    }
}
