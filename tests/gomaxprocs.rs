//! The container-aware GOMAXPROCS default on this machine: environment
//! values, GODEBUG keys, `taskset`, a real cgroup with a CPU quota (when
//! root), and live updates when the affinity of a running program changes.
//! Each case runs in a child process (this test binary re-executed), since
//! the environment is read once per process. The fixture-tree tests of the
//! detector are unit tests in `scheduler/src/config/procs/tests.rs`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use goro::{CgroupLimit, ProcsSource};

const CHILD: &str = "GORO_TEST_CHILD";

fn child_case() -> Option<String> {
    std::env::var(CHILD).ok()
}

/// This binary re-executed to run test `name` as `case`, with a clean
/// GOMAXPROCS/GODEBUG environment plus `env`.
fn child_command(prefix: &[&str], name: &str, case: &str, env: &[(&str, &str)]) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match prefix.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .env_remove("GOMAXPROCS")
        .env_remove("GODEBUG")
        .envs(env.iter().copied());
    cmd
}

/// The child's report: what `runtime_info()` said inside its runtime.
#[derive(Debug)]
struct Report {
    procs: usize,
    source: String,
    updates: bool,
    cgroup: String,
}

/// In a child started by `report_with`: prints the report and returns
/// true (the test then returns at once).
fn reporting_child() -> bool {
    let reporting = child_case().as_deref() == Some("report");
    if reporting {
        print_report();
    }
    reporting
}

/// Starts a runtime and prints its `runtime_info()` as one `report` line
/// (and the Display form, for failure messages).
fn print_report() {
    goro::run(|| {
        let info = goro::runtime_info();
        assert_eq!(info.gomaxprocs, goro::gomaxprocs());
        println!("{info}");
        println!(
            "report procs={} source={:?} updates={} cgroup={}",
            info.gomaxprocs,
            info.source,
            info.automatic_updates,
            cgroup_summary(&info.cgroup)
        );
    });
}

fn cgroup_summary(c: &CgroupLimit) -> String {
    match c {
        CgroupLimit::Limited { cpus, file } => format!("limited:{cpus}:{}", file.display()),
        CgroupLimit::Unlimited { .. } => "unlimited".into(),
        CgroupLimit::Ignored => "ignored".into(),
        CgroupLimit::Unavailable(_) => "unavailable".into(),
        _ => "other".into(),
    }
}

fn parse_report(out: &Output) -> Report {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_report_line(&stdout).unwrap_or_else(|| panic!("no report in {stdout}"))
}

fn parse_report_line(text: &str) -> Option<Report> {
    let line = text
        .lines()
        .find_map(|l| Some(l.split_once("report ")?.1))?;
    let field = |k: &str| {
        line.split(' ')
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {k} in {line}"))
            .to_string()
    };
    Some(Report {
        procs: field("procs").parse().unwrap(),
        source: field("source"),
        updates: field("updates") == "true",
        cgroup: field("cgroup"),
    })
}

/// The default this machine's rule gives (what a child without
/// GOMAXPROCS should get).
fn machine_default() -> usize {
    goro::runtime_info().default_procs
}

const REPORT_TEST: &str = "runtime_info_outside_a_runtime_describes_the_next_runtime";

/// Runs a reporting child with `env` (and an optional command prefix such
/// as `taskset -c 0`); returns its report and stderr.
fn report_with(prefix: &[&str], env: &[(&str, &str)]) -> (Report, String) {
    let out = child_command(prefix, REPORT_TEST, "report", env)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (parse_report(&out), stderr)
}

/// Also the entry point of the reporting children.
#[test]
fn runtime_info_outside_a_runtime_describes_the_next_runtime() {
    if reporting_child() {
        return;
    }
    let info = goro::runtime_info();
    assert_eq!(info.gomaxprocs, goro::gomaxprocs());
    assert!(info.default_procs >= 1 && info.default_procs <= info.cpus);
    if let Ok(n) = info.affinity {
        assert_eq!(n, info.cpus);
    }
    let started = goro::Runtime::builder()
        .build()
        .unwrap()
        .run(goro::gomaxprocs);
    assert_eq!(started, info.gomaxprocs, "{info}");
}

/// The one stderr line naming `var` (there must be exactly one).
fn only_line_about<'a>(var: &str, stderr: &'a str) -> &'a str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(var)).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
}

#[test]
fn bad_gomaxprocs_values_fall_back_to_the_default_with_one_line() {
    let default = machine_default();
    for bad in ["0", "-3", "abc", "99999999999", "", "1.5"] {
        let (r, stderr) = report_with(&[], &[("GOMAXPROCS", bad)]);
        assert_eq!(r.procs, default, "GOMAXPROCS={bad:?}: {stderr}");
        assert_eq!(r.source, "Automatic");
        assert!(r.updates);
        let line = only_line_about("GOMAXPROCS", &stderr);
        assert!(
            line.starts_with(&format!("goro: ignoring GOMAXPROCS={bad:?}: "))
                && line.contains("using the default"),
            "{line}"
        );
    }
}

#[test]
fn gomaxprocs_env_wins_and_turns_updates_off() {
    let (r, stderr) = report_with(&[], &[("GOMAXPROCS", "3")]);
    assert_eq!(r.procs, 3);
    assert_eq!(r.source, "Environment");
    assert!(!r.updates);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn godebug_keys() {
    let (r, stderr) = report_with(&[], &[("GODEBUG", "containermaxprocs=0")]);
    assert_eq!(r.cgroup, "ignored");
    assert!(r.updates);
    assert!(stderr.is_empty(), "{stderr}");

    let (r, _) = report_with(&[], &[("GODEBUG", "gctrace=1,updatemaxprocs=0")]);
    assert_eq!(r.source, "Automatic");
    assert!(!r.updates);
    assert_eq!(r.procs, machine_default());

    let (r, stderr) = report_with(&[], &[("GODEBUG", "updatemaxprocs=maybe,unknown=x")]);
    assert!(r.updates);
    let line = only_line_about("GODEBUG", &stderr);
    assert!(
        line.starts_with("goro: ignoring GODEBUG updatemaxprocs=maybe: not an integer"),
        "{line}"
    );
}

#[test]
fn under_taskset_one_cpu_the_default_is_one() {
    if Command::new("taskset").arg("-V").output().is_err() {
        println!("skipped: no taskset on this machine");
        return;
    }
    let (r, stderr) = report_with(&["taskset", "-c", "0"], &[]);
    assert_eq!(r.procs, 1, "{stderr}");
    assert_eq!(r.source, "Automatic");
}

#[test]
fn explicit_settings_and_set_default_gomaxprocs() {
    let rt = goro::Runtime::builder().procs(3).build().unwrap();
    rt.run(|| {
        let info = goro::runtime_info();
        assert_eq!((info.gomaxprocs, info.source), (3, ProcsSource::Explicit));
        assert!(!info.automatic_updates);
        goro::set_default_gomaxprocs();
        let info = goro::runtime_info();
        assert_eq!(info.source, ProcsSource::Automatic);
        assert_eq!(goro::gomaxprocs(), info.default_procs);
        assert!(info
            .to_string()
            .starts_with(&format!("gomaxprocs={}: automatic", info.default_procs)));
        goro::set_gomaxprocs(5);
        let info = goro::runtime_info();
        assert_eq!((info.gomaxprocs, info.source), (5, ProcsSource::Explicit));
        assert!(info
            .to_string()
            .contains("set by Builder::procs or set_gomaxprocs"));
    });
    let err = std::panic::catch_unwind(goro::set_default_gomaxprocs).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a goro runtime"), "{msg}");
}

/// The lines a running child prints, read with the child still running.
struct Running {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Running { child, lines }
    }

    /// What follows `prefix` in the next line holding it (the test
    /// harness may have printed the test's name before it on that line).
    fn expect(&mut self, prefix: &str) -> String {
        for line in self.lines.by_ref() {
            if let Some((_, rest)) = line.unwrap().split_once(prefix) {
                return rest.to_string();
            }
        }
        panic!("child ended before printing {prefix:?}");
    }

    fn send(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Running {
    /// Closes the child's stdin (its signal to end) and waits for it.
    fn finish(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child: {status}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPUs in a thread's affinity mask (pid 0: the calling thread).
fn affinity_of(pid: libc::pid_t) -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; all zeros is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live cpu_set_t of the size passed.
    let r = unsafe { libc::sched_getaffinity(pid, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    // SAFETY: CPU_ISSET reads within the set for indices below CPU_SETSIZE.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

fn set_affinity(pid: libc::pid_t, cpus: &[usize]) {
    // SAFETY: cpu_set_t is plain data; all zeros is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        // SAFETY: `c` came from affinity_of, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: `set` is a live, initialized cpu_set_t of the size passed.
    let r = unsafe { libc::sched_setaffinity(pid, std::mem::size_of_val(&set), &set) };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
}

const LIVE_TEST: &str = "p_count_follows_the_affinity_of_a_running_program";

#[test]
fn p_count_follows_the_affinity_of_a_running_program() {
    if child_case().as_deref() == Some("live") {
        // Print every change of the P count until stdin closes (or 20 s).
        goro::run(|| {
            let deadline = Instant::now() + Duration::from_secs(20);
            let (tx, rx) = goro::chan::<()>(0);
            std::thread::spawn(move || {
                let _ = std::io::stdin().lines().count();
                tx.close();
            });
            let mut last = goro::gomaxprocs();
            println!("ready {last}");
            while !rx.is_closed() && Instant::now() < deadline {
                goro::time::sleep(Duration::from_millis(10));
                let now = goro::gomaxprocs();
                if now != last {
                    last = now;
                    println!("procs {now}");
                }
            }
        });
        return;
    }
    let mask = affinity_of(0);
    if mask.len() < 2 {
        println!("skipped: this process may run on one CPU only");
        return;
    }
    let mut child = Running::start(child_command(&[], LIVE_TEST, "live", &[]));
    let pid = child.child.id() as libc::pid_t;
    let start: usize = child.expect("ready ").parse().unwrap();
    assert_eq!(start, machine_default());
    if start < 2 {
        println!("skipped: the default is already {start} (cgroup limit?)");
        return;
    }
    let t = Instant::now();
    set_affinity(pid, &mask[..1]);
    assert_eq!(child.expect("procs "), "1");
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    println!("the P count followed the affinity mask in {took:?}");
    let t = Instant::now();
    set_affinity(pid, &mask);
    assert_eq!(child.expect("procs ").parse::<usize>().unwrap(), start);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    child.finish();
}

/// A cgroup directory created by the test, removed on drop (after the
/// child in it has been killed: `Running` is dropped first).
struct TempCgroup(PathBuf);

impl Drop for TempCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Where to make a cgroup that the detector will read for a process
/// moved into it, and the hierarchy's version: the v1 `cpu` hierarchy if
/// this process has one, else the v2 tree.
fn cgroup_parent() -> Result<(PathBuf, bool), String> {
    let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
    let v1 = own
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .any(|c| c.split(',').any(|c| c == "cpu"));
    let candidates: &[&str] = if v1 {
        &[
            "/sys/fs/cgroup/cpu",
            "/sys/fs/cgroup/cpu,cpuacct",
            "/sys/fs/cgroup/cpuacct,cpu",
        ]
    } else {
        &["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
    };
    let marker = if v1 {
        "cpu.cfs_quota_us"
    } else {
        "cgroup.controllers"
    };
    candidates
        .iter()
        .map(Path::new)
        .find(|p| p.join(marker).exists())
        .map(|p| (p.to_path_buf(), v1))
        .ok_or_else(|| format!("no cpu cgroup hierarchy at {candidates:?}"))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("write {text:?} to {}: {e}", path.display()))
}

/// Creates `outer` (limit `quota` µs per 100 ms) and `outer/inner` (no
/// limit of its own).
fn make_cgroups(quota: u64) -> Result<(TempCgroup, TempCgroup, bool), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let (parent, v1) = cgroup_parent()?;
    let outer = parent.join(format!("goro-test-{}", std::process::id()));
    std::fs::create_dir(&outer).map_err(|e| format!("mkdir {}: {e}", outer.display()))?;
    let outer = TempCgroup(outer);
    if !v1 {
        for dir in [&parent, &outer.0] {
            write(&dir.join("cgroup.subtree_control"), "+cpu")?;
        }
    }
    let inner = outer.0.join("inner");
    std::fs::create_dir(&inner).map_err(|e| format!("mkdir {}: {e}", inner.display()))?;
    let inner = TempCgroup(inner);
    set_quota(&outer.0, v1, quota)?;
    Ok((outer, inner, v1))
}

fn set_quota(dir: &Path, v1: bool, quota: u64) -> Result<(), String> {
    if v1 {
        write(&dir.join("cpu.cfs_period_us"), "100000")?;
        write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())
    } else {
        write(&dir.join("cpu.max"), &format!("{quota} 100000"))
    }
}

const CGROUP_TEST: &str = "real_cgroup_quota_is_detected_in_a_child";

#[test]
fn real_cgroup_quota_is_detected_in_a_child() {
    if child_case().as_deref() == Some("cgroup") {
        // Report each time the parent says so, then exit when stdin closes.
        let mut stdin = std::io::stdin().lines();
        while stdin.next().is_some() {
            print_report();
        }
        return;
    }
    let (outer, inner, v1) = match make_cgroups(150_000) {
        Ok(c) => c,
        Err(why) => {
            println!("skipped: cannot create a cgroup with a CPU quota: {why}");
            return;
        }
    };
    let limit_file = outer
        .0
        .join(if v1 { "cpu.cfs_quota_us" } else { "cpu.max" });
    let mut child = Running::start(child_command(&[], CGROUP_TEST, "cgroup", &[]));
    write(&inner.0.join("cgroup.procs"), &child.child.id().to_string()).unwrap();

    // The limit is on the parent of the child's cgroup: the walk finds it.
    child.send("report");
    let r = parse_report_line(&format!("report {}", child.expect("report "))).unwrap();
    assert_eq!(r.cgroup, format!("limited:1.5:{}", limit_file.display()));
    let cpus = goro::runtime_info().cpus;
    assert_eq!(r.procs, cpus.min(2));

    // The open file is re-read: a new quota shows at the next detection.
    set_quota(&outer.0, v1, 350_000).unwrap();
    child.send("report");
    let r = parse_report_line(&format!("report {}", child.expect("report "))).unwrap();
    assert_eq!(r.cgroup, format!("limited:3.5:{}", limit_file.display()));
    assert_eq!(r.procs, cpus.min(4));
    child.finish();
    drop(inner);
    drop(outer);
}
