//! Configuration: what the environment and the machine say the runtime
//! should be. Imports only `sys/`.
//!
//! - `settings`: `GOMAXPROCS`, `GORO_STACK_SIZE` and the stress switches,
//!   read once per process, bad values reported and ignored.
//! - `godebug`: the `GODEBUG` keys goro reads.
//! - `procs`: the container-aware default P count (affinity mask, cgroup
//!   CPU limit) and `runtime_info`.

pub(crate) mod godebug;
pub(crate) mod procs;
mod settings;

pub(crate) use settings::{automatic_updates, env, initial_procs};
pub use settings::{default_procs, default_stack_size, MAX_PROCS};
