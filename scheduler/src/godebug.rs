//! `GODEBUG`: the runtime debugging switches goro shares with Go.
//!
//! The variable is a comma-separated list of `key=value` pairs, read once
//! per process. goro reads three keys here; unknown keys are ignored (they
//! may be meant for Go programs sharing the environment), and a bad value
//! for a known key is reported once on stderr and ignored:
//! - `schedtrace=MS`: sysmon prints Go's `SCHED` line every MS milliseconds
//!   (`schedtrace.rs`); 0 turns it off.
//! - `scheddetail=1`: with `schedtrace`, the detailed form (per-P, per-M and
//!   per-G lines).
//! - `goroleaks=1`: `run` lists at exit the goroutines still parked
//!   (`snapshot.rs`).
//!
//! As in Go, a later occurrence of a key overrides an earlier one.

use std::sync::OnceLock;
use std::time::Duration;

/// The parsed `GODEBUG` settings goro uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct GoDebug {
    pub schedtrace: Option<Duration>,
    pub scheddetail: bool,
    pub goroleaks: bool,
}

/// The settings of this process (parsed on first use).
pub(crate) fn godebug() -> &'static GoDebug {
    static SETTINGS: OnceLock<GoDebug> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let value = std::env::var("GODEBUG").unwrap_or_default();
        let (settings, problems) = parse(&value);
        for p in problems {
            eprintln!("goro: ignoring GODEBUG {p}");
        }
        settings
    })
}

/// Parses a `GODEBUG` value; returns the settings and one message per bad
/// value of a known key.
pub(crate) fn parse(value: &str) -> (GoDebug, Vec<String>) {
    let mut settings = GoDebug::default();
    let mut problems = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((key, v)) = item.split_once('=') else {
            continue;
        };
        let bad = |why: &str| format!("{key}={v:?}: {why}");
        match key {
            "schedtrace" => match v.parse::<u64>() {
                Ok(0) => settings.schedtrace = None,
                Ok(ms) => settings.schedtrace = Some(Duration::from_millis(ms)),
                Err(_) => problems.push(bad("not a number of milliseconds")),
            },
            "scheddetail" | "goroleaks" => {
                let on = match v {
                    "0" => false,
                    "1" => true,
                    _ => {
                        problems.push(bad("must be 0 or 1"));
                        continue;
                    }
                };
                if key == "scheddetail" {
                    settings.scheddetail = on;
                } else {
                    settings.goroleaks = on;
                }
            }
            _ => {}
        }
    }
    (settings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_unknown_keys_and_overrides() {
        let (s, problems) = parse("gctrace=1,schedtrace=250, scheddetail=1,goroleaks=1");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            s,
            GoDebug {
                schedtrace: Some(Duration::from_millis(250)),
                scheddetail: true,
                goroleaks: true,
            }
        );
        let (s, _) = parse("schedtrace=100,schedtrace=0,goroleaks=1,goroleaks=0");
        assert_eq!(s, GoDebug::default());
        assert_eq!(parse("").0, GoDebug::default());
        assert_eq!(parse("noequals,=3,,").0, GoDebug::default());
    }

    #[test]
    fn bad_values_are_reported_and_ignored() {
        let (s, problems) = parse("schedtrace=-5,scheddetail=yes,goroleaks=2,schedtrace=10");
        assert_eq!(s.schedtrace, Some(Duration::from_millis(10)));
        assert!(!s.scheddetail && !s.goroleaks);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("schedtrace=\"-5\""), "{problems:?}");
        assert!(problems[1].contains("scheddetail"), "{problems:?}");
    }
}
