//! `runtime_info()`: what the P count is, where its inputs came from and
//! why it was chosen, as a struct whose `Display` is a short report.

use std::fmt;
use std::path::PathBuf;

use super::{limit_procs, Detection};

/// The cgroup CPU limit the default P count considered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CgroupLimit {
    /// A CPU bandwidth limit of `cpus` CPUs on average (quota / period),
    /// the lowest of the process's cgroup and its ancestors, set in `file`.
    Limited {
        /// The limit in CPUs (quota / period).
        cpus: f64,
        /// The `cpu.max` (or `cpu.cfs_quota_us`) file that sets it.
        file: PathBuf,
    },
    /// The process's cgroup, `dir`, and its ancestors set no CPU limit.
    Unlimited {
        /// The process's cgroup directory.
        dir: PathBuf,
    },
    /// Cgroup limits are ignored (`GODEBUG=containermaxprocs=0`).
    Ignored,
    /// No limit could be read (no cgroup, missing directory, unreadable or
    /// malformed file): why. The CPU count is used alone.
    Unavailable(String),
}

impl CgroupLimit {
    /// The limit in CPUs, if one applies.
    pub fn cpus(&self) -> Option<f64> {
        match self {
            CgroupLimit::Limited { cpus, .. } => Some(*cpus),
            _ => None,
        }
    }
}

impl fmt::Display for CgroupLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgroupLimit::Limited { cpus, file } => {
                write!(f, "limit {cpus} CPUs from {}", file.display())
            }
            CgroupLimit::Unlimited { dir } => {
                write!(f, "no CPU limit in {} or its parents", dir.display())
            }
            CgroupLimit::Ignored => f.write_str("ignored (GODEBUG=containermaxprocs=0)"),
            CgroupLimit::Unavailable(why) => write!(f, "no limit read ({why})"),
        }
    }
}

/// Who set the current P count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcsSource {
    /// The default rule (CPU count and cgroup limit).
    Automatic,
    /// `GOMAXPROCS` in the environment.
    Environment,
    /// `Builder::procs` or `set_gomaxprocs`.
    Explicit,
}

/// The P count and the inputs of its default ([`runtime_info`](crate::runtime_info)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RuntimeInfo {
    /// GOMAXPROCS now; outside a runtime, what a new one would start with.
    pub gomaxprocs: usize,
    /// Who set it.
    pub source: ProcsSource,
    /// Whether sysmon follows changes of the affinity mask and the limit
    /// (automatic source and no `GODEBUG=updatemaxprocs=0`).
    pub automatic_updates: bool,
    /// CPUs in the process's affinity mask, or why it could not be read.
    pub affinity: Result<usize, String>,
    /// The CPU count the rule used: the affinity count, else the online CPUs.
    pub cpus: usize,
    /// The cgroup CPU limit.
    pub cgroup: CgroupLimit,
    /// What the default rule gives now.
    pub default_procs: usize,
    /// How long goroutines queued for an M waited while some P was idle,
    /// over the run so far (sampled by sysmon): the parallelism that
    /// placement left unused, since started goroutines never change
    /// thread. Zero outside a runtime.
    pub idle_wait: std::time::Duration,
    /// Idle periods in which an M spun in full looking for work to steal
    /// (while others were busy and its recent spins had found some), over
    /// the run so far. Zero outside a runtime.
    pub full_spins: u64,
    /// Idle periods in which an M watched its home queue for a goroutine
    /// that a partner on another thread was likely to ready soon. Zero
    /// outside a runtime.
    pub home_watches: u64,
}

impl RuntimeInfo {
    pub(crate) fn new(
        gomaxprocs: usize,
        source: ProcsSource,
        automatic_updates: bool,
        d: Detection,
    ) -> RuntimeInfo {
        RuntimeInfo {
            gomaxprocs,
            source,
            automatic_updates,
            affinity: d.affinity,
            cpus: d.cpus,
            cgroup: d.cgroup,
            default_procs: d.procs,
            idle_wait: std::time::Duration::ZERO,
            full_spins: 0,
            home_watches: 0,
        }
    }

    /// Why the default rule gives `default_procs`.
    fn default_reason(&self) -> String {
        let cpus = format!("{} available", cpus(self.cpus));
        match self.cgroup.cpus() {
            Some(limit) if limit_procs(limit) < self.cpus => format!(
                "the cgroup limit of {limit} CPUs, rounded up to a whole CPU and to at least 2, \
                 is below the {cpus}"
            ),
            Some(limit) => format!(
                "{cpus}; the cgroup limit of {limit} CPUs allows {}",
                limit_procs(limit)
            ),
            None => cpus,
        }
    }
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gomaxprocs={}: ", self.gomaxprocs)?;
        match self.source {
            ProcsSource::Automatic => write!(f, "automatic, {}", self.default_reason())?,
            ProcsSource::Environment => f.write_str("set by GOMAXPROCS in the environment")?,
            ProcsSource::Explicit => f.write_str("set by Builder::procs or set_gomaxprocs")?,
        }
        if self.gomaxprocs != self.default_procs {
            write!(f, " (the default rule gives {} now)", self.default_procs)?;
        }
        let updates = match (self.automatic_updates, self.source) {
            (true, _) => "on",
            (false, ProcsSource::Automatic) => "off (GODEBUG=updatemaxprocs=0)",
            (false, _) => "off (set explicitly)",
        };
        writeln!(f, "; automatic updates {updates}")?;
        match &self.affinity {
            Ok(n) => writeln!(f, "  affinity: {} (sched_getaffinity)", cpus(*n))?,
            Err(why) => writeln!(
                f,
                "  affinity: unreadable ({why}); {} online",
                cpus(self.cpus)
            )?,
        }
        write!(f, "  cgroup: {}", self.cgroup)?;
        if !self.idle_wait.is_zero() {
            write!(
                f,
                "\n  goroutines waited {} ms for their M while a P was idle",
                self.idle_wait.as_millis()
            )?;
        }
        Ok(())
    }
}

fn cpus(n: usize) -> String {
    match n {
        1 => "1 CPU".into(),
        n => format!("{n} CPUs"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(source: ProcsSource, gomaxprocs: usize, cgroup: CgroupLimit) -> RuntimeInfo {
        let procs = super::super::combine(8, cgroup.cpus());
        let d = Detection {
            affinity: Ok(8),
            cpus: 8,
            cgroup,
            procs,
        };
        RuntimeInfo::new(gomaxprocs, source, source == ProcsSource::Automatic, d)
    }

    #[test]
    fn report_says_why() {
        let file = PathBuf::from("/sys/fs/cgroup/pod/cpu.max");
        let limited = CgroupLimit::Limited { cpus: 1.5, file };
        let text = info(ProcsSource::Automatic, 2, limited.clone()).to_string();
        assert_eq!(
            text,
            "gomaxprocs=2: automatic, the cgroup limit of 1.5 CPUs, rounded up to a whole CPU \
             and to at least 2, is below the 8 CPUs available; automatic updates on\n  \
             affinity: 8 CPUs (sched_getaffinity)\n  \
             cgroup: limit 1.5 CPUs from /sys/fs/cgroup/pod/cpu.max"
        );
        let text = info(ProcsSource::Environment, 5, limited).to_string();
        assert!(text.starts_with(
            "gomaxprocs=5: set by GOMAXPROCS in the environment (the default rule gives 2 now); \
             automatic updates off (set explicitly)\n"
        ));
        let big = CgroupLimit::Limited {
            cpus: 12.0,
            file: PathBuf::from("/cg/cpu.max"),
        };
        let text = info(ProcsSource::Automatic, 8, big).to_string();
        assert!(text.starts_with(
            "gomaxprocs=8: automatic, 8 CPUs available; the cgroup limit of 12 CPUs allows 12;"
        ));
    }
}
