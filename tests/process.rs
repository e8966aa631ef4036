//! `goro::process`: std's `Command` semantics, with pipes and waits that
//! park the goroutine.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use goro::process::Command;

#[test]
fn output_status_and_std_defaults() {
    goro::run(|| {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
        // output(): stdin is null, so `cat` ends at once.
        assert_eq!(Command::new("cat").output().unwrap().stdout, b"");
        let st = Command::new("true").status().unwrap();
        assert!(st.success());
        assert_eq!(
            Command::new("no-such-program-goro")
                .status()
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo $GORO_X"])
            .env("GORO_X", "set")
            .current_dir("/");
        assert_eq!(cmd.output().unwrap().stdout, b"set\n");
        // The same builder again: std's defaults per call.
        assert!(cmd.status().unwrap().success());
    });
}

#[test]
fn a_goroutine_per_pipe_and_wait() {
    goro::run(|| {
        let mut child = Command::new("sh")
            .args([
                "-c",
                "while read l; do echo \"got $l\"; echo \"err $l\" >&2; done",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let writer = goro::go!(move || {
            for i in 0..1000 {
                writeln!(stdin, "line {i}").unwrap();
            }
        });
        let errs = goro::go!(move || {
            let mut s = String::new();
            stderr.read_to_string(&mut s).unwrap();
            s.lines().count()
        });
        let lines: Vec<String> = BufReader::new(stdout).lines().map(Result::unwrap).collect();
        writer.join().unwrap();
        assert_eq!(lines.len(), 1000);
        assert_eq!(lines[999], "got line 999");
        assert_eq!(errs.join().unwrap(), 1000);
        assert!(child.wait().unwrap().success());
    });
}

#[test]
fn kill_and_try_wait() {
    goro::run(|| {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(child.id() > 0);
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        let st = child.wait().unwrap();
        assert_eq!(st.signal(), Some(libc::SIGKILL));
        // A second wait gives the same status (std's rule).
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn many_goroutines_run_commands_at_once() {
    let ok = goro::run(|| {
        let hs: Vec<_> = (0..32)
            .map(|i| {
                goro::go!(move || {
                    let out = Command::new("sh")
                        .args(["-c", &format!("sleep 0.05; echo {i}")])
                        .output()
                        .unwrap();
                    String::from_utf8(out.stdout).unwrap().trim() == i.to_string()
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&b| b)
            .count()
    });
    assert_eq!(ok, 32);
}

#[test]
fn works_on_a_plain_thread() {
    let out = Command::new("echo").arg("plain").output().unwrap();
    assert_eq!(out.stdout, b"plain\n");
}
