//! Tests that need their own environment or end the process re-run one
//! test of their binary in a child process: the parent calls
//! [`run_child`], the test itself checks [`is_child`] to know which side
//! it is on.

use std::process::{Command, Output};

/// Names the case a child process runs (the test's name, or a case of
/// one test that runs several).
pub const CHILD: &str = "GORO_TEST_CHILD";

/// Runs the test `name` of this binary in a child with `CHILD=case`,
/// without the runtime settings of this process (`GODEBUG`, `GORO_TRACE`),
/// and with the extra environment `env`.
pub fn run_child_case(name: &str, case: &str, env: &[(&str, &str)]) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .env_remove("GODEBUG")
        .env_remove("GORO_TRACE")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Runs the test `name` of this binary in a child (`CHILD=name`).
pub fn run_child(name: &str, env: &[(&str, &str)]) -> Output {
    run_child_case(name, name, env)
}

/// Whether this process is the child running the test `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|c| c == name)
}

/// The case this child process runs, if it is one.
pub fn child_case() -> Option<String> {
    std::env::var(CHILD).ok()
}
