//! Alternate signal stacks for threads that run goroutines.
//!
//! The overflow handler must run somewhere other than the stack that just
//! overflowed, so it is installed with `SA_ONSTACK` and needs a `sigaltstack` on
//! every thread that runs goroutines. std gives its own threads (and the main
//! thread) one, but only if std's own SIGSEGV handler was installed at start-up;
//! a library that set a handler before `main`, or a thread created outside std,
//! leaves threads without one, and an overflow would then fault again while
//! delivering the signal and kill the process without a message.
//!
//! [`ensure_signal_stack`] checks the calling thread and, if it has none, maps a
//! 64 KiB stack (or larger if the kernel's `AT_MINSIGSTKSZ` asks for it) with a
//! `PROT_NONE` guard page below it and registers it. The returned guard is bound to the
//! thread; dropping it disables and unmaps the stack it installed.

use std::marker::PhantomData;
use std::ptr;

use crate::sys;

/// Usable size of the alternate signal stacks we create.
const SIGNAL_STACK_SIZE: usize = 64 << 10;

/// Keeps the alternate signal stack installed by [`ensure_signal_stack`] alive;
/// dropping it disables and unmaps that stack. Inert if the thread already had
/// one. Not `Send`: it belongs to the thread that created it.
#[must_use = "dropping the guard removes the signal stack again"]
#[derive(Debug)]
pub struct SignalStackGuard {
    /// `(start, len)` of the mapping we created, guard page included.
    mapping: Option<(usize, usize)>,
    _thread_bound: PhantomData<*const ()>,
}

/// Makes sure the calling thread has an alternate signal stack, creating one if
/// it has none (`SS_DISABLE`). Idempotent per thread: if the thread already has
/// one (std's, or one from an earlier call), the returned guard does nothing.
///
/// Should the mapping fail, the thread is left as it was and the guard is inert;
/// the only consequence is that a goroutine overflow on this thread kills the
/// process with a bare SIGSEGV instead of the overflow message.
pub fn ensure_signal_stack() -> SignalStackGuard {
    let inert = SignalStackGuard {
        mapping: None,
        _thread_bound: PhantomData,
    };
    let Some(current) = current_signal_stack() else {
        return inert;
    };
    if current.ss_flags & libc::SS_DISABLE == 0 {
        return inert;
    }
    let page = sys::page_size();
    // SAFETY: getauxval has no preconditions; it returns 0 for absent entries.
    let kernel_minimum = unsafe { libc::getauxval(libc::AT_MINSIGSTKSZ) } as usize;
    let Some(size) = sys::round_up_to_page(SIGNAL_STACK_SIZE.max(kernel_minimum.saturating_mul(4)))
    else {
        return inert;
    };
    let Ok(start) = sys::map_anonymous(
        page + size,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_STACK,
    ) else {
        return inert;
    };
    let stack = libc::stack_t {
        ss_sp: (start + page) as *mut libc::c_void,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: the lowest page of our fresh mapping holds no data and becomes its
    // guard (mprotect, like std: one extra VMA per worker thread is cheap).
    // sigaltstack() registers memory we own and keep mapped until the guard is
    // dropped, which unregisters it first.
    let installed = unsafe {
        sys::mprotect(start, page, libc::PROT_NONE).is_ok()
            && libc::sigaltstack(&stack, ptr::null_mut()) == 0
    };
    if !installed {
        // SAFETY: the mapping was created above and was not registered.
        unsafe { sys::unmap(start, page + size) };
        return inert;
    }
    SignalStackGuard {
        mapping: Some((start, page + size)),
        _thread_bound: PhantomData,
    }
}

/// The calling thread's alternate signal stack settings.
fn current_signal_stack() -> Option<libc::stack_t> {
    let mut current = libc::stack_t {
        ss_sp: ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: with a null new stack, sigaltstack() only writes the current
    // settings into `current`.
    (unsafe { libc::sigaltstack(ptr::null(), &mut current) } == 0).then_some(current)
}

impl Drop for SignalStackGuard {
    fn drop(&mut self) {
        let Some((start, len)) = self.mapping else {
            return;
        };
        let ours = (start + sys::page_size()) as *mut libc::c_void;
        if let Some(current) = current_signal_stack() {
            if current.ss_sp == ours {
                if current.ss_flags & libc::SS_ONSTACK != 0 {
                    // Dropped from a signal handler running on it: keep it.
                    return;
                }
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                // SAFETY: disabling the alternate stack of the current thread,
                // which is not executing on it.
                unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
            }
        }
        // SAFETY: the mapping is ours, no longer registered with this thread (the
        // guard is not Send, so this is the thread that registered it), and
        // nothing else refers to it.
        unsafe { sys::unmap(start, len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_on_a_bare_thread_and_removes_on_drop() {
        std::thread::spawn(|| {
            // Simulate a thread created without std's signal stack.
            let disable = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: this thread is not running on its alternate stack. std's
            // stack (if any) stays mapped until the thread exits; we only
            // unregister it.
            assert_eq!(unsafe { libc::sigaltstack(&disable, ptr::null_mut()) }, 0);
            assert_ne!(
                current_signal_stack().unwrap().ss_flags & libc::SS_DISABLE,
                0
            );

            let guard = ensure_signal_stack();
            let (start, _) = guard.mapping.expect("a stack was installed");
            let now = current_signal_stack().unwrap();
            assert_eq!(now.ss_flags, 0);
            assert_eq!(now.ss_sp as usize, start + sys::page_size());
            assert!(now.ss_size >= SIGNAL_STACK_SIZE);

            // Idempotent: the second call sees our stack and does nothing.
            let again = ensure_signal_stack();
            assert!(again.mapping.is_none());
            drop(again);
            assert_eq!(current_signal_stack().unwrap().ss_sp, now.ss_sp);

            drop(guard);
            assert_ne!(
                current_signal_stack().unwrap().ss_flags & libc::SS_DISABLE,
                0
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn leaves_an_existing_stack_alone() {
        std::thread::spawn(|| {
            let before = current_signal_stack().unwrap();
            let guard = ensure_signal_stack();
            if before.ss_flags & libc::SS_DISABLE == 0 {
                assert!(guard.mapping.is_none());
                assert_eq!(current_signal_stack().unwrap().ss_sp, before.ss_sp);
            }
        })
        .join()
        .unwrap();
    }
}
