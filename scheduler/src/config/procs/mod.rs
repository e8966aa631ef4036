//! The default P count (GOMAXPROCS), aware of its container, after Go 1.25.
//!
//! The default is the lower of two inputs:
//!
//! 1. the CPUs this process may run on: the main thread's affinity mask
//!    (`affinity.rs`), or the online CPU count if the mask is unreadable;
//! 2. the cgroup CPU bandwidth limit (quota / period, the lowest of the
//!    process's cgroup and its ancestors: `cgroup.rs` finds the directory,
//!    `limit.rs` reads the files), rounded up to a whole CPU and raised to
//!    at least 2: a quota is an average over its period, so a 0.5-CPU
//!    limit still gets 2 Ps and 2.5 CPUs get 3 (Go's choice in proposal
//!    golang/go#73193). The minimum applies to the limit only: with one
//!    CPU in the mask (`taskset -c 0`) the default is 1.
//!
//! No limit (`max`, `-1`), `GODEBUG=containermaxprocs=0`, no cgroup, or
//! unreadable or malformed cgroup files: the CPU count alone. The rule is
//! [`combine`]; docs/gomaxprocs.md has the whole story.
//!
//! The [`Detector`] opens the limit files once (the cgroup membership is
//! read at first use, as Go does) and re-reads them on each [`Detector::detect`];
//! the process-wide one ([`detect`]) uses the real root `/` and is what
//! runtimes and sysmon's once-a-second update ask. Tests build their own
//! over a fixture root.

mod affinity;
mod cgroup;
mod info;
mod limit;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config::MAX_PROCS;
pub use info::{CgroupLimit, ProcsSource, RuntimeInfo};
use limit::LimitFiles;

/// What the detector saw and the default P count it gives.
#[derive(Debug, Clone)]
pub(crate) struct Detection {
    /// CPUs in the affinity mask, or why it could not be read.
    pub affinity: Result<usize, String>,
    /// The CPU count used: the affinity count, else the online CPUs.
    pub cpus: usize,
    pub cgroup: CgroupLimit,
    /// The default P count: [`combine`] of the two.
    pub procs: usize,
}

/// Reads the rule's inputs under one root path.
pub(crate) struct Detector {
    cgroup: CgroupFiles,
}

enum CgroupFiles {
    /// `GODEBUG=containermaxprocs=0`.
    Ignored,
    /// Why no limit can be read.
    Unavailable(String),
    Open {
        dir: PathBuf,
        files: LimitFiles,
    },
}

impl Detector {
    /// Finds the process's CPU cgroup under `root` and opens its limit
    /// files (unless `use_cgroup` is false).
    pub(crate) fn new(root: &Path, use_cgroup: bool) -> Detector {
        let cgroup = if !use_cgroup {
            CgroupFiles::Ignored
        } else {
            let opened = cgroup::find_cpu_cgroup(root)
                .and_then(|cg| LimitFiles::open(&cg).map(|files| (cg.dir, files)));
            match opened {
                Ok((dir, files)) => CgroupFiles::Open { dir, files },
                Err(why) => CgroupFiles::Unavailable(why),
            }
        };
        Detector { cgroup }
    }

    /// Reads the affinity mask and the current limit.
    pub(crate) fn detect(&self) -> Detection {
        let affinity = affinity::affinity_cpus();
        let cpus = match affinity {
            Ok(n) => n,
            Err(_) => affinity::online_cpus(),
        };
        let cgroup = match &self.cgroup {
            CgroupFiles::Ignored => CgroupLimit::Ignored,
            CgroupFiles::Unavailable(why) => CgroupLimit::Unavailable(why.clone()),
            CgroupFiles::Open { dir, files } => match files.read() {
                Ok(Some(q)) => CgroupLimit::Limited {
                    cpus: q.cpus,
                    file: q.file,
                },
                Ok(None) => CgroupLimit::Unlimited { dir: dir.clone() },
                Err(why) => CgroupLimit::Unavailable(why),
            },
        };
        let procs = combine(cpus, cgroup.cpus());
        Detection {
            affinity,
            cpus,
            cgroup,
            procs,
        }
    }
}

/// Go's rule: the CPU count, lowered to a cgroup limit rounded up to a
/// whole CPU and raised to at least 2; within 1..=`MAX_PROCS`.
pub(crate) fn combine(cpus: usize, limit: Option<f64>) -> usize {
    let procs = match limit {
        Some(l) => cpus.min(limit_procs(l)),
        None => cpus,
    };
    procs.clamp(1, MAX_PROCS)
}

/// What a cgroup limit of `cpus` CPUs allows: rounded up, at least 2.
pub(crate) fn limit_procs(cpus: f64) -> usize {
    // `as` saturates: a huge limit becomes usize::MAX, i.e. no cap.
    (cpus.ceil() as usize).max(2)
}

/// The process-wide detector over `/`, honouring
/// `GODEBUG=containermaxprocs`; opened on first use.
pub(crate) fn detect() -> Detection {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR
        .get_or_init(|| {
            Detector::new(
                Path::new("/"),
                crate::config::env().godebug.containermaxprocs,
            )
        })
        .detect()
}
