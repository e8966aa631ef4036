//! Walking a parked goroutine's stack, for goroutine dumps.
//!
//! `park` records its frame's instruction, stack and frame pointers
//! (`park_frame.rs`); everything the goroutine's callers left lies above
//! that stack pointer, untouched until it resumes. A dump walks it in three
//! steps:
//!
//! 1. **Hold** the goroutine (`scan.rs`): `PARKED -> SCANNING`, under the
//!    runtime's `all_gs` lock, so no M resumes it and its G is not freed;
//!    a `ready` meanwhile is left to the dump, which queues the goroutine
//!    when it lets go. Only goroutines parked now are walked; a running
//!    or runnable one keeps its one-line state.
//! 2. **Unwind** from the recorded registers with the DWARF CFI of the
//!    loaded modules (`.eh_frame`, as release builds have no frame
//!    pointers), using `framehop` (`cfi_unwinder.rs`, `modules.rs`). Every
//!    memory read goes through `StackReader` (`reader.rs`): only aligned
//!    words between the park frame's stack pointer and the top of the G's
//!    stack, so a bogus frame can only end the walk, never fault, and pages
//!    below the park frame (which trimming may have given back) are never
//!    touched. The walk stops after `frames::WALK_LIMIT` addresses; it
//!    usually ends by leaving the stack through corosensei's trampoline,
//!    whose CFI points at the M's stack, outside the range.
//! 3. **Let go**, then symbolize (`frames.rs`) outside the lock: reading
//!    debug info is slow, and a goroutine readied meanwhile waits for the
//!    hold only, not for symbolization.
//!
//! Why the reads are no data race: the hold orders them after everything
//! the goroutine wrote before it parked, and the words an unwinder reads
//! are return addresses and callee-saved registers, which the code of the
//! frames' own functions saved and which no other thread writes (wakers
//! write waiter records and values, a `blocking` closure what it borrows;
//! those are locals of the frames, never their save slots). The reads are
//! volatile and aligned, so a word read while a (buggy) writer changes it
//! would give a wrong frame, not a torn one.
//!
//! `walker.rs` does steps 1 and 2 for one goroutine on every target; the
//! unwinder is x86_64 Linux only. Elsewhere (`no_unwinder.rs`) the walk
//! returns `None` and the dump says `goroutine parked; stack unavailable`.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod cfi_unwinder;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod modules;
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod no_unwinder;
mod reader;
mod walker;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use cfi_unwinder::Unwinder;
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
use no_unwinder::Unwinder;
pub(crate) use walker::Walker;
