//! The CPU bandwidth limit of a cgroup and of every ancestor up to its
//! mount point, as an average number of CPUs (quota / period).
//!
//! v2 keeps `quota period` in `cpu.max` (`max` for no limit); v1 keeps
//! `cpu.cfs_quota_us` (`-1` for no limit) and `cpu.cfs_period_us`. A
//! parent's limit binds its children, so the effective limit is the lowest
//! of all levels. Go reads only the leaf; goro walks up, because a runtime
//! started in a child cgroup (e.g. a systemd service below a limited
//! slice) would otherwise miss its real limit.
//!
//! The files are opened once ([`LimitFiles::open`]) and re-read from offset
//! 0 on every [`LimitFiles::read`], so sysmon's once-a-second check costs
//! one `pread` per file and no path walk. A level without the files (the
//! v2 root, or a cgroup whose parent did not enable the `cpu` controller)
//! has no limit of its own. A missing cgroup directory, an unreadable or a
//! malformed file is an error: the caller then applies no limit and
//! reports why.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::cgroup::{CpuCgroup, Version};

/// A CPU limit and the file that sets it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quota {
    /// Average CPUs allowed: quota / period (may be fractional).
    pub cpus: f64,
    /// The v2 `cpu.max` or v1 `cpu.cfs_quota_us` of the lowest level.
    pub file: PathBuf,
}

/// The limit files of one level.
enum Level {
    V2 { max: Opened },
    V1 { quota: Opened, period: Opened },
}

struct Opened {
    file: File,
    path: PathBuf,
}

/// The open limit files of a cgroup and its ancestors, leaf first.
pub(crate) struct LimitFiles {
    levels: Vec<Level>,
}

impl LimitFiles {
    /// Opens the limit files from `cg.dir` up to `cg.mount`.
    pub(crate) fn open(cg: &CpuCgroup) -> Result<LimitFiles, String> {
        if !cg.dir.is_dir() {
            return Err(format!("cgroup directory {} not found", cg.dir.display()));
        }
        let mut levels = Vec::new();
        let mut dir = cg.dir.as_path();
        loop {
            if let Some(level) = open_level(dir, cg.version)? {
                levels.push(level);
            }
            if dir == cg.mount {
                break;
            }
            match dir.parent() {
                Some(parent) if parent.starts_with(&cg.mount) => dir = parent,
                _ => break,
            }
        }
        Ok(LimitFiles { levels })
    }

    /// The lowest limit of all levels, `None` when no level has one.
    pub(crate) fn read(&self) -> Result<Option<Quota>, String> {
        let mut lowest: Option<Quota> = None;
        for level in &self.levels {
            if let Some(q) = level.read()? {
                if lowest.as_ref().is_none_or(|l| q.cpus < l.cpus) {
                    lowest = Some(q);
                }
            }
        }
        Ok(lowest)
    }
}

/// The level's files, `None` if it has none; an error if they exist but
/// cannot be opened.
fn open_level(dir: &Path, version: Version) -> Result<Option<Level>, String> {
    let level = match version {
        Version::V2 => open_file(&dir.join("cpu.max"))?.map(|max| Level::V2 { max }),
        Version::V1 => {
            let quota = open_file(&dir.join("cpu.cfs_quota_us"))?;
            let period = open_file(&dir.join("cpu.cfs_period_us"))?;
            match (quota, period) {
                (Some(quota), Some(period)) => Some(Level::V1 { quota, period }),
                (None, None) => None,
                (Some(o), None) | (None, Some(o)) => {
                    return Err(format!(
                        "{} has only one of cpu.cfs_quota_us and cpu.cfs_period_us",
                        o.path.parent().unwrap_or(dir).display()
                    ))
                }
            }
        }
    };
    Ok(level)
}

fn open_file(path: &Path) -> Result<Option<Opened>, String> {
    match File::open(path) {
        Ok(file) => Ok(Some(Opened {
            file,
            path: path.to_path_buf(),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot open {}: {e}", path.display())),
    }
}

impl Level {
    fn read(&self) -> Result<Option<Quota>, String> {
        let (cpus, file) = match self {
            Level::V2 { max } => (parse_v2(&max.read()?).map_err(|e| max.bad(e))?, max),
            Level::V1 { quota, period } => {
                let q = parse_v1(&quota.read()?).map_err(|e| quota.bad(e))?;
                if q < 0 {
                    return Ok(None); // -1: no limit
                }
                let p = parse_v1(&period.read()?).map_err(|e| period.bad(e))?;
                (Some(ratio(q, p).map_err(|e| quota.bad(e))?), quota)
            }
        };
        Ok(cpus.map(|cpus| Quota {
            cpus,
            file: file.path.clone(),
        }))
    }
}

impl Opened {
    /// The whole file, read afresh from its start.
    fn read(&self) -> Result<String, String> {
        // Both files hold at most two 19-digit numbers.
        let mut buf = [0u8; 64];
        let n = self
            .file
            .read_at(&mut buf, 0)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        if n == buf.len() {
            return Err(self.bad("too long".into()));
        }
        std::str::from_utf8(&buf[..n])
            .map(str::to_string)
            .map_err(|_| self.bad("not text".into()))
    }

    fn bad(&self, why: String) -> String {
        format!("malformed {}: {why}", self.path.display())
    }
}

/// `cpu.max`: `max PERIOD` (no limit) or `QUOTA PERIOD`, in CPUs.
fn parse_v2(text: &str) -> Result<Option<f64>, String> {
    let mut fields = text.split_whitespace();
    let (Some(quota), Some(period), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("{:?} is not \"QUOTA PERIOD\"", text.trim()));
    };
    if quota == "max" {
        return Ok(None);
    }
    let number = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("{s:?} is not a number"))
    };
    ratio(number(quota)?, number(period)?).map(Some)
}

/// A v1 file: one integer.
fn parse_v1(text: &str) -> Result<i64, String> {
    let t = text.trim();
    t.parse::<i64>()
        .map_err(|_| format!("{t:?} is not a number"))
}

fn ratio(quota: i64, period: i64) -> Result<f64, String> {
    if quota <= 0 || period <= 0 {
        return Err(format!(
            "quota {quota} and period {period} must be positive"
        ));
    }
    Ok(quota as f64 / period as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_values() {
        assert_eq!(parse_v2("max 100000\n"), Ok(None));
        assert_eq!(parse_v2("150000 100000\n"), Ok(Some(1.5)));
        assert_eq!(parse_v2("50000 100000"), Ok(Some(0.5)));
        assert!(parse_v2("100000\n").is_err());
        assert!(parse_v2("abc 100000\n").is_err());
        assert!(parse_v2("100000 0\n").is_err());
        assert!(parse_v2("1 2 3\n").is_err());
        assert!(parse_v2("").is_err());
    }

    #[test]
    fn v1_values() {
        assert_eq!(parse_v1("-1\n"), Ok(-1));
        assert_eq!(parse_v1("250000\n"), Ok(250000));
        assert!(parse_v1("12x\n").is_err());
        assert!(parse_v1("\n").is_err());
        assert!(ratio(250000, 0).is_err());
        assert_eq!(ratio(250000, 100000), Ok(2.5));
    }
}
