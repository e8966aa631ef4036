//! The docs and the rustdoc cite only files the repository holds: every
//! `.rs` or `.md` path in a Markdown file or a Rust comment names a file
//! that exists (a path with a `/` as the tail of a real path, `../` paths
//! from the citing file's folder, a bare name as some file's name), and
//! nothing cites the `shared` folder beside the repository. Absolute
//! paths (`/src/app/main.rs:40` in a sample backtrace) are examples, not
//! citations, and are left alone.

use std::path::{Path, PathBuf};

/// Every file under `dir`, relative to `root`, leaving out build output
/// and hidden folders.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(root, &path, out);
            }
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The comment text of a line of Rust: what follows a `//` that is not
/// inside a string literal (an even number of `"` before it) and not part
/// of a URL (`://`).
fn comment_of(line: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(at) = line[from..].find("//").map(|p| from + p) {
        let in_string = line[..at].matches('"').count() % 2 == 1;
        if !in_string && !line[..at].ends_with(':') {
            return Some(&line[at + 2..]);
        }
        from = at + 2;
    }
    None
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// The `.rs` and `.md` paths in `text`.
fn cited(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for ext in [".rs", ".md"] {
        for (at, _) in text.match_indices(ext) {
            let end = at + ext.len();
            if text[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                continue;
            }
            let start = text[..at]
                .rfind(|c: char| !path_char(c))
                .map_or(0, |p| p + 1);
            let path = &text[start..end];
            if !path.starts_with('/') && path.len() > ext.len() {
                out.push(path);
            }
        }
    }
    out
}

/// Whether `path`, cited from the file `from`, names a file of `files`.
fn exists(files: &[String], from: &str, path: &str) -> bool {
    if path.starts_with("../") || path.starts_with("./") {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let mut joined = PathBuf::new();
        for part in base.join(path).components() {
            match part {
                std::path::Component::ParentDir => {
                    joined.pop();
                }
                std::path::Component::CurDir => {}
                other => joined.push(other),
            }
        }
        let joined = joined.to_string_lossy().replace('\\', "/");
        return files.contains(&joined);
    }
    if path.contains('/') {
        return files
            .iter()
            .any(|f| f == path || f.ends_with(&format!("/{path}")));
    }
    files.iter().any(|f| f.rsplit('/').next() == Some(path))
}

#[test]
fn docs_and_rustdoc_cite_only_files_the_repository_holds() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut dangling = Vec::new();
    for rel in files
        .iter()
        .filter(|f| f.ends_with(".rs") || f.ends_with(".md"))
    {
        let text = std::fs::read_to_string(root.join(rel)).expect("a readable text file");
        for (n, line) in text.lines().enumerate() {
            let prose = if rel.ends_with(".md") {
                Some(line)
            } else {
                comment_of(line)
            };
            let Some(prose) = prose else { continue };
            if prose.contains("shared/") {
                dangling.push(format!(
                    "{rel}:{}: cites `shared/`, which is not in the repository",
                    n + 1
                ));
            }
            for path in cited(prose) {
                if !exists(&files, rel, path) {
                    dangling.push(format!(
                        "{rel}:{}: `{path}` is not a file of the repository",
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "cite files that exist, or say it in words:\n{}",
        dangling.join("\n")
    );
}

/// The scanner sees citations in both places it reads, so the test above
/// cannot pass by seeing nothing.
#[test]
fn the_scanner_finds_citations() {
    assert_eq!(
        comment_of("let x = 1; // see `docs/design.md`"),
        Some(" see `docs/design.md`")
    );
    assert_eq!(comment_of(r#"let u = "https://docs.rs"; x"#), None);
    assert_eq!(
        cited("in `sched/park.rs:12` and (design.md)"),
        ["sched/park.rs", "design.md"]
    );
    assert!(cited("at /src/app/main.rs:40, a .rsync").is_empty());
    let files = [
        "docs/design.md".to_string(),
        "scheduler/src/sched/park.rs".to_string(),
    ];
    assert!(exists(&files, "docs/x.md", "sched/park.rs"));
    assert!(exists(&files, "docs/x.md", "../docs/design.md"));
    assert!(!exists(&files, "docs/x.md", "scheduler/src/park.rs"));
    assert!(!exists(&files, "docs/x.md", "worker.rs"));
}
