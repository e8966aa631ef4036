//! Settings read from the environment, once per process.
//!
//! `GOMAXPROCS` (a positive integer) and `GORO_STACK_SIZE` (bytes, with an
//! optional K/M/G suffix) set defaults; a bad value is reported on stderr
//! once, naming the variable, the value and the fallback, and is ignored.
//! `GODEBUG` is parsed by `godebug.rs`; its bad values are reported the
//! same way. Without `GOMAXPROCS` the P count follows the container-aware
//! default of `procs/`.
//! `GORO_MIGRATE_AGGRESSIVELY=1` is a stress mode for `spawn_migratory`
//! goroutines: they move to the global queue at every park.

use std::sync::OnceLock;

use crate::config::godebug::GoDebug;
use crate::config::procs::{self, ProcsSource};

/// Largest P count accepted (`set_gomaxprocs` clamps to it).
pub const MAX_PROCS: usize = 1024;

pub(crate) struct EnvConfig {
    pub gomaxprocs: Option<usize>,
    pub stack_size: Option<usize>,
    pub migrate_aggressively: bool,
    pub godebug: GoDebug,
}

pub(crate) fn env() -> &'static EnvConfig {
    static ENV: OnceLock<EnvConfig> = OnceLock::new();
    ENV.get_or_init(|| EnvConfig {
        gomaxprocs: std::env::var("GOMAXPROCS")
            .ok()
            .and_then(|v| report(parse_procs(&v), "GOMAXPROCS", &v, DEFAULT_PROCS)),
        stack_size: std::env::var("GORO_STACK_SIZE").ok().and_then(|v| {
            report(
                goro_stack::parse_stack_size(&v),
                "GORO_STACK_SIZE",
                &v,
                "the default stack size",
            )
        }),
        migrate_aggressively: std::env::var("GORO_MIGRATE_AGGRESSIVELY").is_ok_and(|v| v == "1"),
        godebug: std::env::var("GODEBUG").map_or_else(
            |_| GoDebug::default(),
            |v| {
                let (settings, problems) = GoDebug::parse(&v);
                for p in problems {
                    eprintln!("goro: ignoring GODEBUG {p}; using its default");
                }
                settings
            },
        ),
    })
}

const DEFAULT_PROCS: &str = "the default (the CPUs available, lowered to the cgroup CPU limit)";

fn report<T>(r: Result<T, String>, var: &str, value: &str, fallback: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(why) => {
            eprintln!("goro: ignoring {var}={value:?}: {why}; using {fallback}");
            None
        }
    }
}

/// Parses a `GOMAXPROCS` value: an integer from 1 to `MAX_PROCS`.
pub(crate) fn parse_procs(v: &str) -> Result<usize, String> {
    let t = v.trim();
    if t.is_empty() {
        return Err("empty value".into());
    }
    if t.starts_with('-') {
        return Err("must be a positive integer".into());
    }
    match t.parse::<u64>() {
        Ok(0) => Err("must be a positive integer, not 0".into()),
        Ok(n) if n <= MAX_PROCS as u64 => Ok(n as usize),
        Ok(_) => Err(format!("above the limit of {MAX_PROCS}")),
        Err(_) if t.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("above the limit of {MAX_PROCS}"))
        }
        Err(_) => Err("not a number".into()),
    }
}

/// The default P count: `GOMAXPROCS`, else the CPUs available (affinity
/// mask) lowered to the cgroup CPU limit (docs/gomaxprocs.md).
pub fn default_procs() -> usize {
    initial_procs(|| procs::detect().procs).0
}

/// The P count a new runtime starts with and who chose it: `GOMAXPROCS`,
/// else `automatic()`.
pub(crate) fn initial_procs(automatic: impl FnOnce() -> usize) -> (usize, ProcsSource) {
    match env().gomaxprocs {
        Some(n) => (n, ProcsSource::Environment),
        None => (automatic(), ProcsSource::Automatic),
    }
}

/// Whether sysmon follows the default rule for a count set by `source`.
pub(crate) fn automatic_updates(source: ProcsSource) -> bool {
    source == ProcsSource::Automatic && env().godebug.updatemaxprocs
}

/// The default usable stack size: `GORO_STACK_SIZE`, else 256 KiB (release)
/// or 1 MiB (debug builds).
pub fn default_stack_size() -> usize {
    env().stack_size.unwrap_or(goro_stack::DEFAULT_STACK_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procs_values() {
        assert_eq!(parse_procs("4"), Ok(4));
        assert_eq!(parse_procs(" 2 "), Ok(2));
        assert!(parse_procs("0").is_err());
        assert!(parse_procs("-3").is_err());
        assert!(parse_procs("abc").is_err());
        assert!(parse_procs("").is_err());
        assert_eq!(parse_procs("1024"), Ok(MAX_PROCS));
        assert!(parse_procs("1025").is_err());
        assert!(parse_procs("99999999999").is_err());
        assert!(parse_procs("999999999999999999999999").is_err());
    }
}
