//! The network poller (Go's netpoll): one edge-triggered epoll instance for
//! the process, polled by the scheduler's own Ms.
//!
//! Every socket registers its fd once, at creation, for
//! `EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET`, with a [`PollDesc`] (Go's
//! pollDesc): per direction a *ready* bit and one parked waiter. An I/O
//! operation tries its system call; on `EAGAIN` it calls
//! [`PollDesc::wait`], which, under the desc's lock, consumes the ready bit
//! if an event arrived meanwhile (the caller retries), or registers the
//! goroutine and parks it. An event sets the bit and takes the waiter under
//! the same lock, so no readiness is lost between a failed call and the
//! park. Readied goroutines go to their home P (park/ready contract).
//!
//! Who polls (no I/O thread, no wake-up hop):
//! - an M that finds no local work polls without blocking before it spins
//!   or sleeps, while goroutines wait on I/O;
//! - the first M to go to sleep while goroutines wait on I/O *blocks* in
//!   `epoll_wait` instead of its futex, with its P's next timer as timeout
//!   (the blocker role; one M at a time). A wake-up for that M (new work,
//!   an earlier timer, shutdown) writes an eventfd registered in the epoll
//!   set, and only then: other wake-ups stay plain futex wakes. Ms that go
//!   to sleep while the role is taken stand by; the blocker, when it leaves
//!   the role with I/O waiters left, wakes one of them to take it over;
//! - sysmon polls when nobody has for 10 ms (every M busy).
//!
//! Descs are never freed (Go keeps them in a persistent pool): the epoll
//! token is the desc's address, so an event harvested before a close and
//! handled after the desc was reused can only set a stale ready bit, which
//! costs its reader one more `EAGAIN`. Deadline timers carry a per-direction
//! sequence number that only grows, so a stale one finds nothing to wake.
//!
//! Outside a goroutine (a plain thread) `wait` blocks the thread in poll(2)
//! on the fd, so the same socket types work anywhere.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::g::wait_reason::WaitReason;
use crate::sched::park::{current_waiter, park, Waiter, Wake};
use crate::sched::sleep::Sleeper;
use crate::sys::clock::nanos;
use crate::sys::lock::Lock;
use crate::sys::poison::Unpoisoned;
use crate::sys::prefetch::prefetch_lines;
use crate::time::{add_timer, TimerTarget};

/// Which readiness an operation waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Readable (or closed for reading, or in error).
    Read = 0,
    /// Writable (or hung up, or in error).
    Write = 1,
}

/// Token of the interrupting eventfd (no desc lives at address 0).
const WAKE_TOKEN: u64 = 0;
/// sysmon polls when nobody has for this long.
const STALE_POLL: Duration = Duration::from_millis(10);
const EVENTS_PER_POLL: usize = 128;

const READ_EVENTS: u32 =
    (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
const READ_CLOSED_EVENTS: u32 = (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32;
const WRITE_EVENTS: u32 = (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) as u32;

struct Poller {
    epfd: RawFd,
    eventfd: RawFd,
    /// An M holds the blocker role (blocks in `epoll_wait`).
    blocker: AtomicBool,
    /// The eventfd was written and not yet drained (Go's netpollWakeSig).
    wake_sig: AtomicBool,
    /// Goroutines parked in `PollDesc::wait`.
    waiters: AtomicUsize,
    /// `timer::nanos` of the last poll.
    last_poll: AtomicU64,
    /// Descs free for reuse.
    free: Mutex<Vec<&'static Desc>>,
    /// Sleeping Ms that found the blocker role taken.
    standby: Mutex<Vec<Arc<dyn Wake + Send + Sync>>>,
}

struct Desc {
    state: Lock<DescState>,
    /// Read-side events so far (bumped under `state`'s lock; see
    /// [`PollDesc::wait_read_after`]).
    read_events: AtomicU64,
}

#[derive(Default)]
struct DescState {
    sides: [Side; 2],
    /// The peer closed its write half, or the socket failed: reading will
    /// not block again, and no further event will say so (edge-triggered).
    read_closed: bool,
}

#[derive(Default)]
struct Side {
    ready: bool,
    waiter: Option<Waiter>,
    /// Bumped by every park (deadline timers carry it).
    seq: u64,
}

static POLLER: OnceLock<Poller> = OnceLock::new();

/// The poller, created on first use (by the first socket).
fn poller() -> &'static Poller {
    POLLER.get_or_init(|| {
        Poller::new().unwrap_or_else(|e| {
            crate::sys::report::fatal(format_args!("cannot create the network poller: {e}"))
        })
    })
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Poller {
    fn new() -> io::Result<Poller> {
        // SAFETY: plain system calls with valid flags.
        let epfd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: a plain system call with valid flags.
        let eventfd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: WAKE_TOKEN,
        };
        // SAFETY: both fds were just created; `ev` is a valid event.
        cvt(unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, eventfd, &mut ev) })?;
        Ok(Poller {
            epfd,
            eventfd,
            blocker: AtomicBool::new(false),
            wake_sig: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            last_poll: AtomicU64::new(0),
            free: Mutex::new(Vec::new()),
            standby: Mutex::new(Vec::new()),
        })
    }

    /// Waits up to `timeout` (`None`: forever) for events and readies the
    /// goroutines they concern; returns how many it readied. Only the
    /// blocker drains the eventfd (level-triggered): an interrupt meant for
    /// it must not be swallowed by another M's non-blocking poll.
    ///
    /// With many connections each event's desc and each woken goroutine's
    /// record are cold. The batch goes in three passes (prefetch the descs;
    /// take the waiters, prefetching their records; wake them), so that
    /// its cache misses overlap instead of coming one after another
    /// (the measurement: docs/benchmarks.md, "Why these constants").
    fn poll(&self, timeout: Option<Duration>, blocker: bool) -> usize {
        let ms = match timeout {
            None => -1,
            // Round up, so a timer is never polled for early in a loop.
            Some(d) => d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS_PER_POLL];
        // SAFETY: `events` is a valid buffer of EVENTS_PER_POLL entries.
        let n =
            unsafe { libc::epoll_wait(self.epfd, events.as_mut_ptr(), EVENTS_PER_POLL as i32, ms) };
        self.last_poll
            .store(nanos(Instant::now()), Ordering::Relaxed);
        let events = &events[..n.max(0) as usize];
        for ev in events {
            if ev.u64 != WAKE_TOKEN {
                prefetch_lines(ev.u64 as usize, std::mem::size_of::<Desc>());
            }
        }
        let mut woken: [Option<Waiter>; 2 * EVENTS_PER_POLL] =
            [const { None }; 2 * EVENTS_PER_POLL];
        let mut count = 0;
        for ev in events {
            let (token, flags) = (ev.u64, ev.events);
            if token == WAKE_TOKEN {
                if !blocker {
                    continue;
                }
                let mut buf = 0u64;
                // SAFETY: reads 8 bytes into a live u64 (drains the eventfd).
                unsafe { libc::read(self.eventfd, (&mut buf as *mut u64).cast(), 8) };
                self.wake_sig.store(false, Ordering::SeqCst);
                continue;
            }
            // SAFETY: tokens other than WAKE_TOKEN are addresses of leaked,
            // never freed descs (see the module comment).
            let desc = unsafe { &*(token as *const Desc) };
            for w in desc.on_event(flags).into_iter().flatten() {
                w.prefetch();
                woken[count] = Some(w);
                count += 1;
            }
        }
        for w in woken[..count].iter_mut().filter_map(Option::take) {
            // SAFETY: the waiter was registered for one park and taken out
            // under its desc's lock, so nobody else wakes it.
            unsafe { w.wake() };
        }
        count
    }

    /// Interrupts the M blocked in `epoll_wait`.
    fn interrupt(&self) {
        if self
            .wake_sig
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let one = 1u64;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd.
            unsafe { libc::write(self.eventfd, (&one as *const u64).cast(), 8) };
        }
    }

    fn lock_standby(&self) -> std::sync::MutexGuard<'_, Vec<Arc<dyn Wake + Send + Sync>>> {
        self.standby.lock_unpoisoned()
    }
}

impl Desc {
    /// Applies an event's flags; returns the waiters to wake.
    fn on_event(&self, flags: u32) -> [Option<Waiter>; 2] {
        let mut woken: [Option<Waiter>; 2] = [None, None];
        {
            let mut st = self.state.lock();
            for (i, mask) in [READ_EVENTS, WRITE_EVENTS].into_iter().enumerate() {
                if flags & mask != 0 {
                    if i == Interest::Read as usize {
                        self.read_events.fetch_add(1, Ordering::Release);
                        st.read_closed |= flags & READ_CLOSED_EVENTS != 0;
                    }
                    st.sides[i].ready = true;
                    woken[i] = st.sides[i].waiter.take();
                }
            }
        }
        woken
    }
}

/// A registered fd's readiness (Go's pollDesc). Dropping it removes the fd
/// from the epoll set; the owner closes the fd afterwards.
pub struct PollDesc {
    desc: &'static Desc,
    fd: RawFd,
}

impl std::fmt::Debug for PollDesc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PollDesc(fd {})", self.fd)
    }
}

impl PollDesc {
    /// Registers `fd` (which must be non-blocking and stay open until the
    /// returned desc is dropped) with the poller.
    pub fn register(fd: RawFd) -> io::Result<PollDesc> {
        let p = poller();
        let desc = p.free.lock_unpoisoned().pop().unwrap_or_else(|| {
            Box::leak(Box::new(Desc {
                state: Lock::new(DescState::default()),
                read_events: AtomicU64::new(0),
            }))
        });
        // A reused desc forgets its last fd's end of stream (a stale event
        // harvested later may set it again: that only costs a system call).
        desc.state.lock().read_closed = false;
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: desc as *const Desc as u64,
        };
        // SAFETY: `ev` is a valid event; an invalid fd only makes it fail.
        if let Err(e) = cvt(unsafe { libc::epoll_ctl(p.epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) }) {
            p.free.lock_unpoisoned().push(desc);
            return Err(e);
        }
        Ok(PollDesc { desc, fd })
    }

    /// Waits until the fd may be ready for `interest` (the caller retries
    /// its call, which may fail with `EAGAIN` again) or `deadline` passes
    /// (`EAGAIN`, as std's timeouts on Unix). Parks a goroutine; blocks a
    /// plain thread in poll(2).
    pub fn wait(&self, interest: Interest, deadline: Option<Instant>) -> io::Result<()> {
        self.wait_since(interest, deadline, None)
    }

    /// How many read-side events the fd has had; a snapshot for
    /// [`wait_read_after`](Self::wait_read_after).
    pub fn read_events(&self) -> u64 {
        self.desc.read_events.load(Ordering::Acquire)
    }

    /// Like `wait(Interest::Read, ..)` for a caller that knows the receive
    /// queue was empty when [`read_events`](Self::read_events) returned
    /// `seen`: it returns at once if a read event came since (data may be
    /// there, even if another reader took the ready bit) or the read side
    /// was ever closed (end of stream stays readable, and edge-triggered
    /// epoll reports it once), and otherwise parks until an event comes.
    /// This spares the `EAGAIN` a read would get after a short read drained
    /// the queue.
    pub fn wait_read_after(&self, seen: u64, deadline: Option<Instant>) -> io::Result<()> {
        self.wait_since(Interest::Read, deadline, Some(seen))
    }

    fn wait_since(
        &self,
        interest: Interest,
        deadline: Option<Instant>,
        seen: Option<u64>,
    ) -> io::Result<()> {
        if crate::g::current_g().is_none() {
            return poll_fd(self.fd, interest, deadline);
        }
        crate::preempt_point();
        let p = poller();
        loop {
            let seq = {
                let mut st = self.desc.state.lock();
                let came = seen.is_some_and(|n| {
                    st.read_closed || n != self.desc.read_events.load(Ordering::Relaxed)
                });
                let side = &mut st.sides[interest as usize];
                if side.ready || came {
                    side.ready = false;
                    return Ok(());
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Err(timed_out());
                }
                side.seq += 1;
                side.waiter = Some(current_waiter());
                side.seq
            };
            if let Some(d) = deadline {
                let timer = Arc::new(DeadlineTimer {
                    desc: self.desc,
                    interest,
                });
                add_timer(d, timer, seq, None);
            }
            let parked = Parked {
                desc: self.desc,
                interest,
                seq,
                poller: p,
            };
            p.waiters.fetch_add(1, Ordering::SeqCst);
            park(WaitReason::IoWait);
            drop(parked);
        }
    }
}

impl Drop for PollDesc {
    fn drop(&mut self) {
        let p = poller();
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: the owner keeps the fd open until this desc is dropped.
        unsafe { libc::epoll_ctl(p.epfd, libc::EPOLL_CTL_DEL, self.fd, &mut ev) };
        {
            let mut st = self.desc.state.lock();
            for side in &mut st.sides {
                side.ready = false;
                // `wait` borrows the desc, so nobody can be parked on it.
                debug_assert!(side.waiter.is_none());
            }
        }
        p.free.lock_unpoisoned().push(self.desc);
    }
}

/// A goroutine parked in `wait`: counted in `waiters`, and withdrawn from
/// its desc if it is unwound while parked (runtime shutdown).
struct Parked {
    desc: &'static Desc,
    interest: Interest,
    seq: u64,
    poller: &'static Poller,
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.poller.waiters.fetch_sub(1, Ordering::SeqCst);
        if std::thread::panicking() {
            let mut st = self.desc.state.lock();
            let side = &mut st.sides[self.interest as usize];
            if side.seq == self.seq {
                side.waiter = None;
            }
        }
    }
}

/// Wakes a parked `wait` when its deadline passes.
struct DeadlineTimer {
    desc: &'static Desc,
    interest: Interest,
}

impl TimerTarget for DeadlineTimer {
    fn fire(self: Arc<Self>, seq: u64, _now: Instant) {
        let waiter = {
            let mut st = self.desc.state.lock();
            let side = &mut st.sides[self.interest as usize];
            if side.seq != seq {
                return;
            }
            side.waiter.take()
        };
        if let Some(w) = waiter {
            // SAFETY: taken out under the desc's lock: woken exactly once.
            unsafe { w.wake() };
        }
    }

    fn is_stale(&self, seq: u64) -> bool {
        let st = self.desc.state.lock();
        let side = &st.sides[self.interest as usize];
        side.seq != seq || side.waiter.is_none()
    }
}

fn timed_out() -> io::Error {
    io::Error::from_raw_os_error(libc::EAGAIN)
}

/// `wait` for a plain thread: poll(2) on the fd until ready or `deadline`.
fn poll_fd(fd: RawFd, interest: Interest, deadline: Option<Instant>) -> io::Result<()> {
    let events = match interest {
        Interest::Read => libc::POLLIN | libc::POLLRDHUP,
        Interest::Write => libc::POLLOUT,
    };
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(timed_out());
                }
                left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32
            }
        };
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            n if n > 0 => return Ok(()),
            0 => {}
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Polls without blocking if goroutines wait on I/O and no M blocks in the
/// poller (which would see the events itself); returns how many goroutines
/// it readied.
pub(crate) fn poll_ready() -> usize {
    let Some(p) = POLLER.get() else { return 0 };
    if p.waiters.load(Ordering::SeqCst) == 0 || p.blocker.load(Ordering::SeqCst) {
        return 0;
    }
    p.poll(Some(Duration::ZERO), false)
}

/// sysmon's share: polls if goroutines wait on I/O and nobody polled for
/// `STALE_POLL`. Returns whether it readied any.
pub(crate) fn poll_if_stale(now: Instant) -> bool {
    let Some(p) = POLLER.get() else { return false };
    let last = p.last_poll.load(Ordering::Relaxed);
    if nanos(now).saturating_sub(last) < STALE_POLL.as_nanos() as u64 {
        return false;
    }
    poll_ready() > 0
}

/// Wakes the M blocked in the poller (through the eventfd).
pub(crate) fn interrupt() {
    poller().interrupt();
}

/// The M whose sleep state is `sleeper`, announced asleep with no work
/// found, blocks here if goroutines wait on I/O: it takes the blocker role
/// and waits in `epoll_wait` until woken or until `timeout()` (its P's
/// next timer) is due. Returns false if it did not (the caller sleeps on
/// its futex). `me` wakes that M; it is kept in the standby list while
/// another M holds the role.
pub(crate) fn sleep_in_poller(
    me: &Arc<dyn Wake + Send + Sync>,
    sleeper: &Sleeper,
    timeout: impl Fn() -> Option<Duration>,
) -> bool {
    let Some(p) = POLLER.get() else { return false };
    loop {
        if p.waiters.load(Ordering::SeqCst) == 0 {
            return false;
        }
        if p.blocker
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            break;
        }
        p.lock_standby().push(me.clone());
        // A blocker leaving after our failed claim looks at the standby
        // list after clearing the role: we see the role free, or it sees us.
        if p.blocker.load(Ordering::SeqCst) {
            return false;
        }
        leave_standby(&**me);
    }
    sleeper.set_in_poller(true);
    while sleeper.is_sleeping() {
        let timeout = timeout();
        if timeout == Some(Duration::ZERO) {
            break;
        }
        // Readied goroutines may be this M's own (queued as its runnext,
        // with no wake-up): go back to the scheduler.
        if p.poll(timeout, true) > 0 {
            break;
        }
    }
    sleeper.set_in_poller(false);
    p.blocker.store(false, Ordering::SeqCst);
    if p.waiters.load(Ordering::SeqCst) > 0 {
        let next = p.lock_standby().pop();
        if let Some(next) = next {
            next.wake();
        }
    }
    true
}

/// Removes `me` from the standby list (its M woke up).
pub(crate) fn leave_standby(me: &(dyn Wake + Send + Sync)) {
    let Some(p) = POLLER.get() else { return };
    let mut standby = p.lock_standby();
    if let Some(i) = standby
        .iter()
        .position(|x| std::ptr::addr_eq(Arc::as_ptr(x), me))
    {
        standby.swap_remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// Serializes the tests that park on the process-wide poller (one
    /// checks its waiter count).
    static POLLER_TESTS: Mutex<()> = Mutex::new(());

    fn pair() -> (UnixStream, UnixStream, PollDesc) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let desc = PollDesc::register(a.as_raw_fd()).unwrap();
        (a, b, desc)
    }

    #[test]
    fn a_plain_thread_waits_in_poll_until_ready_or_deadline() {
        let (_a, mut b, desc) = pair();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(20);
        let err = desc.wait(Interest::Read, Some(deadline)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
        assert!(Instant::now() >= deadline);
        std::io::Write::write_all(&mut b, b"x").unwrap();
        desc.wait(Interest::Read, None).unwrap();
        desc.wait(
            Interest::Write,
            Some(Instant::now() + Duration::from_secs(5)),
        )
        .unwrap();
    }

    #[test]
    fn readiness_before_the_park_is_remembered_and_deadlines_wake() {
        let _serial = POLLER_TESTS.lock_unpoisoned();
        let rt = crate::Runtime::builder().procs(1).build().unwrap();
        rt.run(|| {
            let (a, mut b, desc) = pair();
            // The event arrives between the failed read and the wait: the
            // ready bit makes the wait return instead of parking forever.
            let mut buf = [0u8; 4];
            assert!(std::io::Read::read(&mut &a, &mut buf).is_err());
            std::io::Write::write_all(&mut b, b"ping").unwrap();
            while poller().poll(Some(Duration::ZERO), false) == 0 && !ready(&desc) {}
            desc.wait(Interest::Read, None).unwrap();
            assert_eq!(std::io::Read::read(&mut &a, &mut buf).unwrap(), 4);
            // Nothing more to read: the deadline timer wakes the goroutine.
            let deadline = Instant::now() + Duration::from_millis(20);
            let err = desc.wait(Interest::Read, Some(deadline)).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
            assert!(Instant::now() >= deadline);
            assert_eq!(poller().waiters.load(Ordering::SeqCst), 0);
        });
    }

    #[test]
    fn waiting_after_a_drained_read_needs_a_later_event_not_the_ready_bit() {
        let _serial = POLLER_TESTS.lock_unpoisoned();
        let rt = crate::Runtime::builder().procs(1).build().unwrap();
        rt.run(|| {
            let (a, mut b, desc) = pair();
            let mut buf = [0u8; 8];
            // A read event arrives and sets the ready bit...
            std::io::Write::write_all(&mut b, b"ab").unwrap();
            while poller().poll(Some(Duration::ZERO), false) == 0 && !ready(&desc) {}
            // ...another reader takes the bit, and more data comes after
            // our snapshot: the wait must return so we try the read.
            let seen = desc.read_events();
            desc.desc.state.lock().sides[Interest::Read as usize].ready = false;
            std::io::Write::write_all(&mut b, b"cd").unwrap();
            while desc.read_events() == seen {
                poller().poll(Some(Duration::ZERO), false);
            }
            desc.wait_read_after(seen, None).unwrap();
            assert_eq!(std::io::Read::read(&mut &a, &mut buf).unwrap(), 4);
            // Drained, no event since: the wait parks until its deadline.
            let seen = desc.read_events();
            let deadline = Instant::now() + Duration::from_millis(20);
            let err = desc.wait_read_after(seen, Some(deadline)).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
            assert!(Instant::now() >= deadline);
        });
    }

    fn ready(desc: &PollDesc) -> bool {
        desc.desc.state.lock().sides[Interest::Read as usize].ready
    }
}
