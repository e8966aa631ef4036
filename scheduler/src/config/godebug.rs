//! `GODEBUG`: runtime debug settings, as Go reads them.
//!
//! The value is a comma-separated list of `key=value` pairs, read left to
//! right, a later pair overriding an earlier one. Unknown keys are ignored
//! silently (a program may be run with settings meant for Go, or for a
//! newer goro); a bad value for a known key is reported by the caller once
//! and that pair is ignored, leaving the default.
//!
//! The settings live in one struct, [`GoDebug`], and each key is one row
//! of [`KEYS`]: a name and a setter that parses the value into its field.
//! Adding a key is adding a field, its default and a row. The keys:
//! - `containermaxprocs`, `updatemaxprocs`: the default P count
//!   (docs/gomaxprocs.md);
//! - `schedtrace=MS`, `scheddetail=1`: sysmon prints Go's `SCHED` lines
//!   every MS milliseconds (`schedtrace.rs`);
//! - `goroleaks=1`: `run` lists at exit the goroutines still parked
//!   (`leaks.rs`);
//! - `blockedthread=MS`: the held-thread report's threshold (default
//!   100 ms, 0: off; `held.rs`).

use std::time::Duration;

/// The parsed `GODEBUG` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoDebug {
    /// `containermaxprocs` (default on): the default P count honours the
    /// cgroup CPU limit. `0` ignores cgroups.
    pub containermaxprocs: bool,
    /// `updatemaxprocs` (default on): sysmon follows changes of the CPU
    /// affinity and the cgroup limit. `0` keeps the start-up value.
    pub updatemaxprocs: bool,
    /// `schedtrace=MS`: print the `SCHED` line every MS ms (0: never).
    pub schedtrace: Option<Duration>,
    /// `scheddetail` (non-zero): with `schedtrace`, Go's detailed form.
    pub scheddetail: bool,
    /// `goroleaks` (non-zero): report goroutines still parked at `run` exit.
    pub goroleaks: bool,
    /// `blockedthread=MS` (default 100): report a goroutine holding its
    /// thread that long while others wait for it (`monitor/held.rs`);
    /// `0` turns the report off.
    pub blockedthread: Option<Duration>,
}

impl Default for GoDebug {
    fn default() -> GoDebug {
        GoDebug {
            containermaxprocs: true,
            updatemaxprocs: true,
            schedtrace: None,
            scheddetail: false,
            goroleaks: false,
            blockedthread: Some(Duration::from_millis(100)),
        }
    }
}

type Setter = fn(&mut GoDebug, &str) -> Result<(), String>;

/// Every key goro knows, with the setter that parses its value.
const KEYS: &[(&str, Setter)] = &[
    ("containermaxprocs", |d, v| {
        d.containermaxprocs = switch(v)?;
        Ok(())
    }),
    ("updatemaxprocs", |d, v| {
        d.updatemaxprocs = switch(v)?;
        Ok(())
    }),
    ("schedtrace", |d, v| {
        d.schedtrace = millis(v)?;
        Ok(())
    }),
    ("scheddetail", |d, v| {
        d.scheddetail = switch(v)?;
        Ok(())
    }),
    ("goroleaks", |d, v| {
        d.goroleaks = switch(v)?;
        Ok(())
    }),
    ("blockedthread", |d, v| {
        d.blockedthread = millis(v)?;
        Ok(())
    }),
];

/// A number of milliseconds, `0` meaning off.
fn millis(v: &str) -> Result<Option<Duration>, String> {
    let ms: u64 = v
        .parse()
        .map_err(|_| "not a number of milliseconds".to_string())?;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

impl GoDebug {
    /// Parses a `GODEBUG` value. Returns the settings and one message per
    /// ignored pair (`key=value: why`) for the caller to report.
    pub(crate) fn parse(value: &str) -> (GoDebug, Vec<String>) {
        let mut settings = GoDebug::default();
        let mut problems = Vec::new();
        for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((key, v)) = pair.split_once('=') else {
                continue; // not key=value: Go ignores it too
            };
            let Some((_, set)) = KEYS.iter().find(|(name, _)| *name == key.trim()) else {
                continue;
            };
            if let Err(why) = set(&mut settings, v.trim()) {
                problems.push(format!("{}={v}: {why}", key.trim()));
            }
        }
        (settings, problems)
    }
}

/// An on/off setting: an integer, 0 for off (Go reads these as integers).
fn switch(v: &str) -> Result<bool, String> {
    v.parse::<i64>()
        .map(|n| n != 0)
        .map_err(|_| "not an integer (0 turns it off, 1 on)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_known_keys() {
        assert_eq!(GoDebug::parse("").0, GoDebug::default());
        let (d, problems) = GoDebug::parse("containermaxprocs=0");
        assert!(!d.containermaxprocs && d.updatemaxprocs);
        assert!(problems.is_empty());
        let (d, _) = GoDebug::parse("updatemaxprocs=0, containermaxprocs=1");
        assert!(d.containermaxprocs && !d.updatemaxprocs);
    }

    #[test]
    fn observability_keys() {
        let (d, problems) = GoDebug::parse("schedtrace=250, scheddetail=1,goroleaks=1");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(d.schedtrace, Some(Duration::from_millis(250)));
        assert!(d.scheddetail && d.goroleaks);
        let (d, problems) = GoDebug::parse("schedtrace=100,schedtrace=0,schedtrace=-5");
        assert_eq!(d.schedtrace, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("schedtrace=-5: not a number"));
    }

    #[test]
    fn later_pairs_win() {
        let (d, _) = GoDebug::parse("updatemaxprocs=0,updatemaxprocs=1");
        assert!(d.updatemaxprocs);
        let (d, _) = GoDebug::parse("updatemaxprocs=1,updatemaxprocs=0");
        assert!(!d.updatemaxprocs);
    }

    #[test]
    fn unknown_keys_and_junk_are_ignored_silently() {
        let (d, problems) = GoDebug::parse("gctrace=1,,madvdontneed=1,noequals,=3");
        assert_eq!(d, GoDebug::default());
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn bad_values_of_known_keys_are_reported_and_keep_the_default() {
        let (d, problems) = GoDebug::parse("containermaxprocs=off,updatemaxprocs=");
        assert_eq!(d, GoDebug::default());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("containermaxprocs=off: not an integer"));
        assert!(problems[1].starts_with("updatemaxprocs=: not an integer"));
    }
}
