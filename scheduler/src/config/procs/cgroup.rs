//! Finding the process's CPU cgroup directory, as Go's
//! internal/runtime/cgroup does, under a root path (`/` in a real process,
//! a fixture tree in tests).
//!
//! 1. `proc/self/cgroup` has one `hierarchy-ID:controllers:path` line per
//!    hierarchy. A v1 hierarchy whose controller list holds `cpu` is the
//!    CPU controller and wins; otherwise the v2 line (`0::path`) is used.
//!    This covers v1, v2 and the hybrid layout (v1 controllers beside a
//!    unified tree), where a controller is in one or the other, never both.
//! 2. `proc/self/mountinfo` gives where that hierarchy is mounted: the first
//!    `cgroup2` mount (v2), or `cgroup` mount with `cpu` in its super
//!    options (v1), whose root (field 4) contains the cgroup path. The
//!    directory is the mount point plus the path below the mount's root.
//!    A path starting with `/..` lies outside this cgroup namespace and
//!    cannot be reached through that mount. Paths in mountinfo escape
//!    space, tab, newline and backslash as `\ooo` octal.
//!
//! The result also keeps the mount point: the limit walk (`limit.rs`) goes
//! from the directory up to it, the highest level this process can see.

use std::path::{Path, PathBuf};

/// The cgroup hierarchy version holding the CPU controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

/// The process's CPU cgroup, as paths under the root given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpuCgroup {
    pub version: Version,
    /// The cgroup's own directory.
    pub dir: PathBuf,
    /// Where its hierarchy is mounted: the last level the walk reads.
    pub mount: PathBuf,
}

/// Finds the CPU cgroup of this process from `root/proc/self/{cgroup,
/// mountinfo}`; the error says what was missing or malformed.
pub(crate) fn find_cpu_cgroup(root: &Path) -> Result<CpuCgroup, String> {
    let cgroup_file = root.join("proc/self/cgroup");
    let text = read(&cgroup_file)?;
    let (version, path) = parse_cgroup_file(&text).map_err(|e| in_file(&cgroup_file, e))?;
    let mountinfo_file = root.join("proc/self/mountinfo");
    let text = read(&mountinfo_file)?;
    let (mount, rel) =
        parse_mountinfo(&text, &path, version).map_err(|e| in_file(&mountinfo_file, e))?;
    let mount = root.join(mount.trim_start_matches('/'));
    let dir = match rel.trim_start_matches('/') {
        "" => mount.clone(),
        rel => mount.join(rel),
    };
    Ok(CpuCgroup {
        version,
        dir,
        mount,
    })
}

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

fn in_file(file: &Path, why: String) -> String {
    format!("{}: {why}", file.display())
}

/// The CPU hierarchy's version and the cgroup path in it.
fn parse_cgroup_file(text: &str) -> Result<(Version, String), String> {
    let mut v2 = None;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("malformed line {line:?}"));
        };
        if !path.starts_with('/') {
            return Err(format!("malformed line {line:?} (path not absolute)"));
        }
        if id == "0" {
            v2 = Some(path.to_string());
        } else if has_cpu(controllers) {
            return Ok((Version::V1, path.to_string()));
        }
    }
    v2.map(|p| (Version::V2, p))
        .ok_or_else(|| "no cpu controller and no cgroup v2 line".to_string())
}

/// Whether a comma-separated list holds `cpu` (not `cpuacct`, `cpuset`).
fn has_cpu(list: &str) -> bool {
    list.split(',').any(|c| c == "cpu")
}

/// The mount point of the hierarchy holding `cgroup`, and the cgroup's
/// path below that mount's root (empty or starting with `/`).
fn parse_mountinfo(text: &str, cgroup: &str, version: Version) -> Result<(String, String), String> {
    for line in text.lines().filter(|l| !l.is_empty()) {
        let malformed = || format!("malformed line {line:?}");
        let (mount_fields, fs_fields) = line.split_once(" - ").ok_or_else(malformed)?;
        let mut mf = mount_fields.split(' ');
        let (Some(root), Some(mount_point)) = (mf.nth(3), mf.next()) else {
            return Err(malformed());
        };
        let mut ff = fs_fields.split(' ');
        let (Some(fstype), _source, super_options) = (ff.next(), ff.next(), ff.next()) else {
            return Err(malformed());
        };
        let wanted = match version {
            Version::V2 => fstype == "cgroup2",
            Version::V1 => fstype == "cgroup" && super_options.is_some_and(has_cpu),
        };
        if !wanted {
            continue;
        }
        let root = unescape(root).ok_or_else(malformed)?;
        if !root.starts_with('/') {
            return Err(malformed());
        }
        let Some(rel) = below(cgroup, &root) else {
            continue;
        };
        if rel == "/.." || rel.starts_with("/../") {
            continue; // outside this cgroup namespace: unreachable here
        }
        let mount_point = unescape(mount_point).ok_or_else(malformed)?;
        return Ok((mount_point, rel.to_string()));
    }
    Err(format!("no {version:?} cgroup mount holds {cgroup:?}"))
}

/// `path` below `root` (whole paths components only), or None.
fn below<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root == "/" {
        return Some(path);
    }
    let rest = path.strip_prefix(root)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// Undoes mountinfo's `\ooo` octal escapes; None for a bad escape.
fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let digits = bytes.get(i + 1..i + 4)?;
        let mut c: u32 = 0;
        for &d in digits {
            if !(b'0'..=b'7').contains(&d) {
                return None;
            }
            c = c * 8 + u32::from(d - b'0');
        }
        out.push(u8::try_from(c).ok()?);
        i += 4;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_cpu_line_wins_over_v2() {
        let text = "4:memory:/m\n1:cpu,cpuacct:/box\n0::/unified\n";
        assert_eq!(
            parse_cgroup_file(text),
            Ok((Version::V1, "/box".to_string()))
        );
        let hybrid = "2:cpuacct:/a\n3:cpuset:/b\n0::/u\n";
        assert_eq!(
            parse_cgroup_file(hybrid),
            Ok((Version::V2, "/u".to_string()))
        );
        assert!(parse_cgroup_file("5:memory:/m\n").is_err());
        assert!(parse_cgroup_file("garbage\n").is_err());
        assert!(parse_cgroup_file("0::relative\n").is_err());
    }

    #[test]
    fn mountinfo_root_prefix_and_namespace() {
        let mi = "30 1 0:26 /sandbox /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_mountinfo(mi, "/sandbox/job", Version::V2),
            Ok(("/sys/fs/cgroup".into(), "/job".into()))
        );
        // "/sandboxed" is not below "/sandbox".
        assert!(parse_mountinfo(mi, "/sandboxed", Version::V2).is_err());
        let ns = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert!(parse_mountinfo(ns, "/../outside", Version::V2).is_err());
    }

    #[test]
    fn mountinfo_v1_needs_cpu_in_super_options() {
        let mi = "32 31 0:29 / /c/acct rw shared:1 - cgroup cgroup rw,cpuacct\n\
                  33 31 0:30 / /c/cpu\\040x rw shared:2 master:3 - cgroup cgroup rw,cpu\n";
        assert_eq!(
            parse_mountinfo(mi, "/", Version::V1),
            Ok(("/c/cpu x".into(), "/".into()))
        );
        assert!(parse_mountinfo("1 2 3 / /x rw cgroup\n", "/", Version::V1).is_err());
        let bad_escape = "1 2 0:1 / /x\\09 rw - cgroup2 none rw\n";
        assert!(parse_mountinfo(bad_escape, "/", Version::V2).is_err());
    }

    #[test]
    fn unescape_octal() {
        assert_eq!(unescape(r"/a\040b\134c").as_deref(), Some(r"/a b\c"));
        assert_eq!(unescape(r"/a\04"), None);
        assert_eq!(unescape(r"/a\777"), None);
    }
}
