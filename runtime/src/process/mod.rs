//! `goro::process`: std's `Command` whose waits park the goroutine (Go's
//! `os/exec`).
//!
//! ```
//! # use goro_runtime as goro; // the doctest links goro's runtime crate
//! goro::run(|| {
//!     let out = goro::process::Command::new("echo").arg("hi").output().unwrap();
//!     assert_eq!(out.stdout, b"hi\n");
//! });
//! ```
//!
//! Design. [`Command`] is std's builder plus what std keeps private (which
//! standard streams were set), so that `spawn`, `status` and `output`
//! apply std's defaults. Starting the child (fork and exec; the exec may
//! read the program from disk) runs on a `blocking` helper. The parent's
//! ends of the child's pipes are non-blocking and on the network poller
//! (`pipes.rs`), so a goroutine per pipe works as in Go. [`Child::wait`]
//! opens a pidfd for the child (Linux 5.3) and parks on the poller until
//! it becomes readable, which the kernel does when the child exits; then
//! it reaps the child with `waitpid`. Where pidfds are missing (a kernel
//! before 5.3: `ENOSYS`) or refused (a seccomp sandbox: `EPERM`,
//! `EACCES`), the first refusal is remembered (`PIDFD`) and every wait
//! runs `waitpid` on a `blocking` helper instead. That helper sleeps
//! until the child exits, and shutdown waits for in-flight helpers: there,
//! a goroutine left waiting on a child that never exits keeps `goro::run`
//! from returning (kill the child first, as Go's `exec.CommandContext`
//! does).

mod pipes;

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output};

use crate::net::fd::{new_fd, Pollable};

/// A process builder with std's method names (`arg`, `env`, `stdout`, ...)
/// whose `spawn`, `status` and `output` never block the goroutine's M.
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    /// Which standard streams the caller set (std's defaults differ
    /// between `spawn`/`status` and `output` for the others).
    set: [bool; 3],
}

impl Command {
    /// A command to run `program` (std's `Command::new`).
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable for the child.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Gives the child an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (`Stdio::piped()` gives [`Child::stdin`]).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.set[0] = true;
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output.
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.set[1] = true;
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error.
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.set[2] = true;
        self.std.stderr(cfg);
        self
    }

    /// The std builder, for what this one does not forward (`uid`,
    /// `process_group`, `pre_exec`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child; unset streams are inherited (std's `spawn`).
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_with(Stdio::inherit, Stdio::inherit)
    }

    /// Runs the child to its end and returns its status; unset streams are
    /// inherited (std's `status`).
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn_with(Stdio::inherit, Stdio::inherit)?.wait()
    }

    /// Runs the child to its end, collecting its output; unset output
    /// streams are captured and an unset stdin is null (std's `output`).
    pub fn output(&mut self) -> io::Result<Output> {
        self.spawn_with(Stdio::null, Stdio::piped)?
            .wait_with_output()
    }

    /// Spawns on a helper with `stdin()`/`out()` for the unset streams.
    fn spawn_with(&mut self, stdin: fn() -> Stdio, out: fn() -> Stdio) -> io::Result<Child> {
        if !self.set[0] {
            self.std.stdin(stdin());
        }
        if !self.set[1] {
            self.std.stdout(out());
        }
        if !self.set[2] {
            self.std.stderr(out());
        }
        // (Unset streams get this call's default every time, so a builder
        // reused by another method gets that method's defaults, as in std.)
        let std = &mut self.std;
        let spawned = crate::blocking(|| std.spawn())?;
        Child::from_std(spawned)
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std builder; its streams count as unset.
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            set: [false; 3],
        }
    }
}

/// A running or exited child (std's `Child`); its pipes park the goroutine.
#[derive(Debug)]
pub struct Child {
    std: std::process::Child,
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    fn from_std(mut std: std::process::Child) -> io::Result<Child> {
        Ok(Child {
            stdin: std.stdin.take().map(ChildStdin::new).transpose()?,
            stdout: std.stdout.take().map(ChildStdout::new).transpose()?,
            stderr: std.stderr.take().map(ChildStderr::new).transpose()?,
            std,
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.std.id()
    }

    /// Sends SIGKILL (std's `kill`; no error if it has exited but is not
    /// yet reaped).
    pub fn kill(&mut self) -> io::Result<()> {
        self.std.kill()
    }

    /// The exit status if the child has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.std.try_wait()
    }

    /// Waits for the child to exit, parking the goroutine (std's `wait`:
    /// closes the child's stdin first, so a child reading it can finish).
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.std.try_wait()? {
            return Ok(status);
        }
        let pidfd = match pidfd_open(self.std.id()) {
            Some(Ok(fd)) => Pollable::new(std::fs::File::from(fd))?,
            Some(Err(e)) => return Err(e),
            None => {
                let std = &mut self.std;
                return crate::blocking(|| std.wait());
            }
        };
        loop {
            if let Some(status) = self.std.try_wait()? {
                return Ok(status);
            }
            pidfd.wait_readable()?;
        }
    }

    /// Waits for the child and collects its stdout and stderr, reading
    /// both at once (stderr in its own goroutine, or thread outside a
    /// runtime) so a child filling one pipe cannot stall on it.
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stderr = self.stderr.take().map(|mut e| {
            let read_all = move || {
                let mut buf = Vec::new();
                e.read_to_end(&mut buf).map(|_| buf)
            };
            if crate::in_goroutine() {
                Collector::Goroutine(crate::__private::go(read_all))
            } else {
                Collector::Thread(std::thread::spawn(read_all))
            }
        });
        let mut stdout = Vec::new();
        if let Some(out) = &mut self.stdout {
            out.read_to_end(&mut stdout)?;
        }
        let stderr = match stderr {
            Some(c) => c.join()?,
            None => Vec::new(),
        };
        Ok(Output {
            status: self.wait()?,
            stdout,
            stderr,
        })
    }
}

/// Where `wait_with_output` reads stderr.
enum Collector {
    Goroutine(crate::JoinHandle<io::Result<Vec<u8>>>),
    Thread(std::thread::JoinHandle<io::Result<Vec<u8>>>),
}

impl Collector {
    fn join(self) -> io::Result<Vec<u8>> {
        let joined = match self {
            Collector::Goroutine(h) => h.join().map_err(|_| ()),
            Collector::Thread(h) => h.join().map_err(|_| ()),
        };
        match joined {
            Ok(r) => r,
            Err(()) => Err(io::Error::other("reading the child's stderr panicked")),
        }
    }
}

/// Whether `pidfd_open` may work here: cleared on the first answer that
/// says it never will.
static PIDFD: AtomicBool = AtomicBool::new(true);

/// A pidfd for `pid` (readable once the process exits), or `None` where
/// pidfds are unavailable (see the module comment).
fn pidfd_open(pid: u32) -> Option<io::Result<OwnedFd>> {
    if !PIDFD.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: pidfd_open(2) reads no memory and returns a new fd or -1;
    // the pid is our unreaped child, so it cannot name another process.
    let fd = unsafe {
        new_fd(libc::syscall(
            libc::SYS_pidfd_open,
            pid as libc::c_long,
            0 as libc::c_long,
        ))
    };
    match fd {
        Err(e) if pidfd_unavailable(&e) => {
            PIDFD.store(false, Ordering::Relaxed);
            None
        }
        fd => Some(fd),
    }
}

/// Whether `pidfd_open`'s error means "never here" rather than a failure
/// of this call: no such system call, or a sandbox refusing it.
fn pidfd_unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSYS | libc::EPERM | libc::EACCES)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sandbox's refusal makes `wait` fall back to a helper instead of
    /// failing; a real error of the call (`EMFILE`) is reported.
    #[test]
    fn sandbox_refusals_fall_back() {
        for errno in [libc::ENOSYS, libc::EPERM, libc::EACCES] {
            assert!(pidfd_unavailable(&io::Error::from_raw_os_error(errno)));
        }
        assert!(!pidfd_unavailable(&io::Error::from_raw_os_error(
            libc::EMFILE
        )));
    }
}
