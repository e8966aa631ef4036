//! The detector over fixture trees of `/proc/self/{cgroup,mountinfo}` and
//! `/sys/fs/cgroup`, written into a temporary directory per test.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A temporary root directory, removed on drop.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "goro-procs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Fixture { root }
    }

    fn file(&self, rel: &str, text: &str) -> &Fixture {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// The process's `/proc/self/cgroup` and `/proc/self/mountinfo`.
    fn proc(&self, cgroup: &str, mountinfo: &str) -> &Fixture {
        self.file("proc/self/cgroup", cgroup)
            .file("proc/self/mountinfo", mountinfo)
    }

    /// A v2 process in cgroup `path` with the usual mount.
    fn v2(&self, path: &str) -> &Fixture {
        self.proc(&format!("0::{path}\n"), V2_MOUNT)
    }

    /// Asserts the detected limit: `cpus` CPUs from `rel`, and the P count.
    fn assert_limited(&self, cpus: f64, rel: &str) {
        let d = self.detect();
        let file = self.path(rel);
        assert_eq!(d.cgroup, CgroupLimit::Limited { cpus, file });
        assert_eq!(d.procs, d.cpus.min(limit_procs(cpus)));
    }

    fn dir(&self, rel: &str) -> &Fixture {
        std::fs::create_dir_all(self.root.join(rel)).unwrap();
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn detect(&self) -> Detection {
        let d = Detector::new(&self.root, true).detect();
        assert_eq!(d.procs, combine(d.cpus, d.cgroup.cpus()), "{d:?}");
        d
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const V2_MOUNT: &str = "29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw\n";

fn unavailable(d: &Detection, needle: &str) {
    match &d.cgroup {
        CgroupLimit::Unavailable(why) => assert!(why.contains(needle), "{why}"),
        other => panic!("expected Unavailable({needle}..), got {other:?}"),
    }
}

#[test]
fn rule_rounds_up_applies_the_minimum_of_two_and_never_exceeds_the_cpus() {
    assert_eq!(combine(8, None), 8);
    assert_eq!(combine(8, Some(0.5)), 2);
    assert_eq!(combine(8, Some(1.0)), 2);
    assert_eq!(combine(8, Some(2.5)), 3);
    assert_eq!(combine(8, Some(3.0)), 3);
    assert_eq!(combine(8, Some(100.0)), 8);
    assert_eq!(combine(1, Some(0.5)), 1);
    assert_eq!(combine(1, None), 1);
    assert_eq!(combine(4096, None), MAX_PROCS);
    assert_eq!(combine(8, Some(1e300)), 8);
}

#[test]
fn v2_nested_limits_take_the_lowest_in_the_middle() {
    let f = Fixture::new();
    f.v2("/kubepods/pod1/ctr")
        .file("sys/fs/cgroup/kubepods/cpu.max", "400000 100000\n")
        .file("sys/fs/cgroup/kubepods/pod1/cpu.max", "150000 100000\n")
        .file("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
    f.assert_limited(1.5, "sys/fs/cgroup/kubepods/pod1/cpu.max");
}

#[test]
fn v2_max_everywhere_is_no_limit() {
    let f = Fixture::new();
    f.v2("/app")
        .file("sys/fs/cgroup/app/cpu.max", "max 100000\n");
    let d = f.detect();
    assert_eq!(
        d.cgroup,
        CgroupLimit::Unlimited {
            dir: f.path("sys/fs/cgroup/app")
        }
    );
    assert_eq!(d.procs, d.cpus.min(MAX_PROCS));
}

#[test]
fn v2_quota_below_one_cpu_gives_two_procs() {
    let f = Fixture::new();
    f.v2("/small")
        .file("sys/fs/cgroup/small/cpu.max", "50000 100000\n");
    f.assert_limited(0.5, "sys/fs/cgroup/small/cpu.max");
}

#[test]
fn v2_namespaced_mount_walks_up_to_the_mount_point_only() {
    // A container's view: the mount's root is its own cgroup.
    let f = Fixture::new();
    f.proc(
        "0::/pod/ctr/worker\n",
        "29 23 0:26 /pod/ctr /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
    )
    .file("sys/fs/cgroup/cpu.max", "300000 100000\n")
    .file("sys/fs/cgroup/worker/cpu.max", "max 100000\n")
    // Above the mount point: outside the container, never read.
    .file("sys/fs/cpu.max", "10000 100000\n");
    f.assert_limited(3.0, "sys/fs/cgroup/cpu.max");
}

#[test]
fn v1_quota_and_period_with_unlimited_parent() {
    let f = Fixture::new();
    f.proc(
        "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n",
        "32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
         33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n",
    )
    .file("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    .file("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    .file("sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n")
    .file(
        "sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us",
        "100000\n",
    )
    .file(
        "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us",
        "250000\n",
    )
    .file(
        "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us",
        "100000\n",
    );
    f.assert_limited(2.5, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us");
}

#[test]
fn hybrid_with_cpu_in_the_unified_tree_uses_v2() {
    let f = Fixture::new();
    f.proc(
        "5:memory:/svc\n2:cpuset:/\n0::/svc\n",
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
             35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
             34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
    )
    .file("sys/fs/cgroup/unified/svc/cpu.max", "200000 100000\n");
    f.assert_limited(2.0, "sys/fs/cgroup/unified/svc/cpu.max");
}

#[test]
fn hybrid_with_cpu_in_v1_uses_v1() {
    // This machine's layout: every controller on v1 beside an empty unified tree.
    let f = Fixture::new();
    f.proc(
        "9:name=systemd:/\n1:cpu:/job\n0::/\n",
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
             33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
    )
    .file("sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "50000\n")
    .file("sys/fs/cgroup/cpu/job/cpu.cfs_period_us", "100000\n")
    .file("sys/fs/cgroup/unified/cpu.max", "100000 100000\n");
    f.assert_limited(0.5, "sys/fs/cgroup/cpu/job/cpu.cfs_quota_us");
}

#[test]
fn malformed_numbers_apply_no_limit_and_say_which_file() {
    let cases = [
        ("cpu.max", "abc 100000\n"),
        ("cpu.max", "100000\n"),
        ("cpu.max", "100000 0\n"),
        ("cpu.max", "-5 100000\n"),
        ("cpu.max", ""),
    ];
    for (name, text) in cases {
        let f = Fixture::new();
        f.v2("/bad")
            .file(&format!("sys/fs/cgroup/bad/{name}"), text);
        let d = f.detect();
        unavailable(&d, "malformed");
        unavailable(&d, "bad/cpu.max");
        assert_eq!(d.procs, d.cpus.min(MAX_PROCS), "{text:?}");
    }
    let f = Fixture::new();
    f.proc("1:cpu:/v1\n", "1 2 0:3 / /cg rw - cgroup cgroup rw,cpu\n")
        .file("cg/v1/cpu.cfs_quota_us", "50000\n")
        .file("cg/v1/cpu.cfs_period_us", "1e5\n");
    unavailable(&f.detect(), "cpu.cfs_period_us");
}

#[test]
fn malformed_proc_files_apply_no_limit() {
    let f = Fixture::new();
    f.proc("no colons here\n", V2_MOUNT);
    unavailable(&f.detect(), "proc/self/cgroup");
    let f = Fixture::new();
    f.proc("0::/x\n", "29 23 0:26 / /sys/fs/cgroup rw cgroup2\n");
    unavailable(&f.detect(), "proc/self/mountinfo: malformed line");
    let f = Fixture::new();
    f.proc("0::/x\n", "1 2 0:3 / /proc rw - proc proc rw\n");
    unavailable(&f.detect(), "no V2 cgroup mount");
}

#[test]
fn missing_files_and_directories() {
    // No /proc/self/cgroup at all.
    let f = Fixture::new();
    f.file("proc/self/mountinfo", V2_MOUNT);
    unavailable(&f.detect(), "cannot read");
    // No /sys/fs/cgroup.
    let f = Fixture::new();
    f.v2("/gone");
    unavailable(&f.detect(), "not found");
    // The cgroup exists but no level has cpu.max (controller not enabled).
    let f = Fixture::new();
    f.v2("/a/b").dir("sys/fs/cgroup/a/b");
    assert!(matches!(f.detect().cgroup, CgroupLimit::Unlimited { .. }));
    // v1 with only one of the two files.
    let f = Fixture::new();
    f.proc("1:cpu:/half\n", "1 2 0:3 / /cg rw - cgroup cgroup rw,cpu\n")
        .file("cg/half/cpu.cfs_quota_us", "50000\n");
    unavailable(&f.detect(), "only one of");
}

#[test]
fn unreadable_limit_file_applies_no_limit() {
    // A directory opens but cannot be read.
    let f = Fixture::new();
    f.v2("/odd").dir("sys/fs/cgroup/odd/cpu.max");
    unavailable(&f.detect(), "cannot read");
}

#[test]
fn containermaxprocs_off_ignores_the_cgroup() {
    let f = Fixture::new();
    f.v2("/small")
        .file("sys/fs/cgroup/small/cpu.max", "50000 100000\n");
    let d = Detector::new(&f.root, false).detect();
    assert_eq!(d.cgroup, CgroupLimit::Ignored);
    assert_eq!(d.procs, d.cpus.min(MAX_PROCS));
}

#[test]
fn files_stay_open_and_are_reread() {
    let f = Fixture::new();
    f.v2("/live")
        .file("sys/fs/cgroup/live/cpu.max", "max 100000\n");
    let detector = Detector::new(&f.root, true);
    assert_eq!(detector.detect().cgroup.cpus(), None);
    f.file("sys/fs/cgroup/live/cpu.max", "350000 100000\n");
    assert_eq!(detector.detect().cgroup.cpus(), Some(3.5));
    // Membership and paths were read once: moving /proc files changes nothing.
    f.file("proc/self/cgroup", "0::/elsewhere\n");
    assert_eq!(detector.detect().cgroup.cpus(), Some(3.5));
}
