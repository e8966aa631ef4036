//! Which threads of this process are blocked for good, from `/proc`.
//!
//! Deadlock detection (`deadlock.rs`) must not report a program whose
//! goroutines wait for a plain thread, and goro cannot know which threads
//! hold a channel or a `Handle`. What it can see is what each thread is
//! doing: `/proc/self/task/TID/syscall` names the system call a blocked
//! thread sits in and its arguments. A thread in `futex(FUTEX_WAIT)` with no
//! timeout can only be woken by another thread (or a signal); a thread that
//! runs, sleeps with a timeout, reads a file or a socket, or sits in any
//! other call might wake a goroutine later.
//!
//! One look is not enough: a thread seen blocked may be woken before the
//! last one is read. So `sample` also records each thread's context-switch
//! count (`/proc/self/task/TID/status`); two samples some time apart that
//! are equal (same threads, all blocked both times, no switch in between)
//! prove a moment at which every one of them was blocked at once.
//!
//! Anything unexpected (no `/proc`, a thread that vanished, a format not
//! understood) reads as "not blocked", so detection errs towards silence.

use std::fs;

/// `FUTEX_WAIT` and `FUTEX_WAIT_BITSET` (what std, parking_lot and goro
/// block on), with the private and clock flags masked off.
const FUTEX_WAIT_CMDS: [i64; 2] = [libc::FUTEX_WAIT as i64, libc::FUTEX_WAIT_BITSET as i64];
const FUTEX_CMD_MASK: i64 = !((libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME) as i64);
/// `SYS_futex` as the `/proc` file prints it.
const SYS_FUTEX: i64 = libc::SYS_futex as _;

/// Each thread (except those in `skip`) with its context-switch count, if
/// every one of them is blocked in an untimed futex wait; `None` otherwise.
pub(crate) fn sample(skip: &[i32]) -> Option<Vec<(i32, u64)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc/self/task").ok()? {
        let tid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        if skip.contains(&tid) {
            continue;
        }
        let syscall = fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
        if !is_untimed_futex_wait(&syscall) {
            return None;
        }
        let status = fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
        out.push((tid, context_switches(&status)?));
    }
    out.sort_unstable();
    Some(out)
}

/// Whether a `/proc/TID/syscall` line shows a futex wait without timeout:
/// `NR ARG0 ARG1 ARG2 ARG3 ...` with `NR` = futex, `ARG1` (op) a wait and
/// `ARG3` (the timeout pointer) null.
fn is_untimed_futex_wait(line: &str) -> bool {
    let mut fields = line.split_whitespace();
    let nr = fields.next().and_then(|f| f.parse::<i64>().ok());
    let args: Vec<i64> = fields
        .take(4)
        .filter_map(|f| i64::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        .collect();
    nr == Some(SYS_FUTEX)
        && args.len() == 4
        && FUTEX_WAIT_CMDS.contains(&(args[1] & FUTEX_CMD_MASK))
        && args[3] == 0
}

/// Voluntary plus involuntary context switches from a `status` file.
fn context_switches(status: &str) -> Option<u64> {
    let mut total = 0;
    let mut found = 0;
    for line in status.lines() {
        if let Some(v) = line
            .strip_prefix("voluntary_ctxt_switches:")
            .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
        {
            total += v.trim().parse::<u64>().ok()?;
            found += 1;
        }
    }
    (found == 2).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::thread::gettid;

    #[test]
    fn recognizes_untimed_futex_waits_only() {
        let nr = libc::SYS_futex;
        // std's Condvar/park without a timeout: FUTEX_WAIT_BITSET|PRIVATE.
        assert!(is_untimed_futex_wait(&format!(
            "{nr} 0x7ff218000ba0 0x189 0x0 0x0 0x0 0xffffffff 0x7ff2 0x7ff2"
        )));
        assert!(is_untimed_futex_wait(&format!(
            "{nr} 0x5600 0x80 0x1 0x0 0x0 0x0 0x1 0x2"
        )));
        // With a timeout, a wake (op 1), another call, a running thread.
        assert!(!is_untimed_futex_wait(&format!(
            "{nr} 0x5600 0x80 0x1 0x7ffd0 0x0 0x0 0x1 0x2"
        )));
        assert!(!is_untimed_futex_wait(&format!(
            "{nr} 0x5600 0x81 0x1 0x0 0x0 0x0 0x1 0x2"
        )));
        assert!(!is_untimed_futex_wait(
            "230 0x1 0x1 0x7ff217ffeab0 0x0 0x0 0x0 0x7ff 0x7ff"
        ));
        assert!(!is_untimed_futex_wait("running"));
        assert!(!is_untimed_futex_wait(""));
    }

    #[test]
    fn a_thread_blocked_on_a_condvar_is_seen_blocked_and_a_sleeper_is_not() {
        let pair = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let p = pair.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            tx.send(gettid()).unwrap();
            let mut go = p.0.lock().unwrap();
            while !*go {
                go = p.1.wait(go).unwrap();
            }
        });
        let tid = rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        // Every other thread of the test binary is skipped: only `waiter`.
        let others: Vec<i32> = fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&t| t != tid)
            .collect();
        let s1 = sample(&others).expect("a condvar waiter is blocked for good");
        let s2 = sample(&others).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.len(), 1);
        assert!(sample(&[tid]).is_none(), "the sampling thread itself runs");
        *pair.0.lock().unwrap() = true;
        pair.1.notify_one();
        waiter.join().unwrap();
    }
}
