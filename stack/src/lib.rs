//! Goroutine stacks: guarded, lazily committed, and cheap to reuse.
//!
//! goro runs every goroutine on its own fixed-size stack (stackful coroutines on
//! corosensei). Unlike Go, Rust cannot move or grow stacks, because nothing knows
//! where the pointers into a stack are, so each goroutine gets a fixed
//! reservation ([`DEFAULT_STACK_SIZE`]: 256 KiB release, 1 MiB debug) of which
//! only the touched pages cost memory, and a guard page below it that turns an
//! overflow into a fault instead of silent corruption of the neighbour. Safe Rust
//! may recurse without bound, so a guard is a soundness requirement (it is the
//! contract of corosensei's `unsafe trait Stack`); a stack is never handed out
//! without one.
//!
//! The design, measured in the project's stack research report:
//!
//! * **Arenas** (`arena.rs`, `class.rs`): stacks are slots of huge
//!   `MAP_NORESERVE` chunks, one set per page-rounded size class, so a million
//!   stacks need only a handful of mappings. Released slots go to a free list
//!   with their pages still committed; reuse costs no system call. Slots are
//!   never unmapped one by one.
//! * **Guards** (`guard.rs`): on Linux >= 6.13 each slot's lowest page gets a
//!   lightweight guard marker (`MADV_GUARD_INSTALL`), which costs no VMA. Older
//!   kernels fall back to `mprotect(PROT_NONE)` guards, two VMAs each, under a
//!   budget derived from `vm.max_map_count`; past it [`StackPool::alloc`] fails
//!   with [`StackError::StackLimit`] before the process-wide limit would break
//!   thread creation and `malloc`.
//! * **No huge pages**: chunks are `MADV_NOHUGEPAGE` (and `MAP_STACK`), or a
//!   single touch of a large stack could commit 2 MiB.
//! * **Trimming** (`stack.rs`): `MADV_DONTNEED` below a parked goroutine's stack
//!   pointer returns the pages of a past deep call without moving anything.
//! * **Overflow reports** (`overflow.rs`, `registry.rs`, `sigaltstack.rs`): a
//!   SIGSEGV handler, chained in front of std's, maps the fault address to its
//!   slot through a lock-free table and prints which goroutine overflowed, then
//!   aborts.
//!
//! Linux only (it relies on Linux `madvise` semantics and `/proc`).

mod arena;
mod class;
mod guard;
mod overflow;
mod pool;
mod registry;
mod sigaltstack;
mod size;
mod stack;
mod sys;

pub use guard::{vma_count, GuardMode};
pub use overflow::install_overflow_handler;
pub use pool::{PoolConfig, StackError, StackPool};
pub use sigaltstack::{ensure_signal_stack, SignalStackGuard};
pub use size::{parse_stack_size, DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE};
pub use stack::{GuardedStack, StackRange, TRIM_MARGIN};
