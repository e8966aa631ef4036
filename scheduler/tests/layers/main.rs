//! The layer check of `scheduler/src` (docs/design.md, "Map"): no folder
//! imports a folder above it, and none reaches into the core (`sched/`)
//! from below `monitor/`, except through a seam declared in
//! `docs/scheduler_layers.txt`, with its reason. Imports the restructuring
//! is still cutting are listed there as debt, so a new one fails the test;
//! a seam or debt entry that matches nothing fails it too, so the list
//! stays true. `docs/scheduler_map.py` draws the same edges; this test
//! enforces them without needing Python.

mod resolve;
mod rules;
mod source;

use std::path::{Path, PathBuf};

use resolve::{Crate, Edge};
use rules::Rules;
use source::SourceFile;

fn read_tree(dir: &Path, src: &Path, out: &mut Vec<SourceFile>) {
    for entry in std::fs::read_dir(dir).expect("scheduler/src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            read_tree(&path, src, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            out.push(SourceFile::parse(&rel, &text));
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn load() -> (Rules, Vec<Edge>) {
    let file = "docs/scheduler_layers.txt";
    let text = std::fs::read_to_string(repo().join(file)).expect("the layer rules");
    let rules = Rules::parse(file, &text);
    let src = repo().join("scheduler/src");
    let mut files = Vec::new();
    read_tree(&src, &src, &mut files);
    let edges = Crate::new(files).edges(&rules);
    (rules, edges)
}

#[test]
fn imports_follow_the_layers() {
    let (rules, edges) = load();
    let mut covered = vec![false; rules.entries.len()];
    let mut problems = Vec::new();
    for e in edges.iter().filter(|e| rules.checked(&e.from, &e.to)) {
        match rules.entry_for(&e.from, &e.path) {
            Some(i) => covered[i] = true,
            None => problems.push(format!("{e}: not a declared seam ({})", rules.file)),
        }
    }
    // Folders sharing a layer may import each other one way only.
    for e in &edges {
        let same_layer = rules.layer[&e.from] == rules.layer[&e.to];
        if same_layer
            && edges
                .iter()
                .any(|back| back.from == e.to && back.to == e.from)
        {
            problems.push(format!("{e}: {} and {} import each other", e.from, e.to));
        }
    }
    for (entry, _) in rules.entries.iter().zip(&covered).filter(|(_, c)| !**c) {
        let (kind, prefix) = (&entry.kind, entry.prefix.join("::"));
        problems.push(format!(
            "{}:{}: {kind} `{prefix}` matches no import: delete it",
            rules.file, entry.line
        ));
    }
    assert!(
        problems.is_empty(),
        "the scheduler's layers are broken (docs/design.md, \"Map\"): cut each import, \
         or declare it in {} if it is a true seam:\n{}",
        rules.file,
        problems.join("\n")
    );
}

/// The scan finds what the check relies on: an import of each kind the
/// sources use (a use tree, a path in code, a module followed to its item,
/// a re-export followed to its definition), so the test above cannot pass
/// by seeing nothing.
#[test]
fn the_scan_sees_imports_of_every_kind() {
    let (_, edges) = load();
    let has = |rel: &str, path: &str, to: &str| {
        edges
            .iter()
            .any(|e| e.rel == rel && e.path.join("::") == path && e.to == to)
    };
    // `use crate::sched::park::{self, WaitReason, Waiter};` in a use tree.
    assert!(has("blocking.rs", "sched::park::Waiter", "sched"));
    // `crate::sys::thread::gettid()` in code.
    assert!(has("blocking.rs", "sys::thread::gettid", "sys"));
    // `use crate::sched::current::{self, ..}` then `current::m()`.
    assert!(has("blocking.rs", "sched::current::m", "sched"));
    // `pub use g::task::JoinHandle` in lib.rs, used as `crate::JoinHandle`.
    assert!(has("sched/spawn.rs", "g::task::JoinHandle", "g"));
    // A `#[cfg(test)]` module's imports are left out.
    assert!(!edges
        .iter()
        .any(|e| e.rel == "netpoll/poller.rs" && e.path.join("::") == "runtime::Runtime"));
}
