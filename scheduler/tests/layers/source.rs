//! Reading one Rust file by simple string scanning: comments, string and
//! char literals and `#[cfg(test)]` items blanked out (newlines kept, so
//! byte offsets still give line numbers), then its `use` trees and the
//! `crate::`/`super::` paths of its code. The same steps as
//! `docs/scheduler_map.py`, which draws what this test checks.

/// One file of `scheduler/src`, as far as imports go.
pub struct SourceFile {
    /// Its path under `scheduler/src`, with `/`.
    pub rel: String,
    /// Its module path: `sched/park.rs` is `[sched, park]`, `lib.rs` is `[]`.
    pub module: Vec<String>,
    /// Each imported name: (line, path as written, the name it binds).
    pub uses: Vec<(usize, Vec<String>, String)>,
    /// The code with comments, literals, test items and `use`s blanked.
    pub code: String,
    /// The `macro_rules!` it defines.
    pub macros: Vec<String>,
    /// Its out-of-line test modules (`#[cfg(test)] mod tests;`).
    pub test_mods: Vec<String>,
}

impl SourceFile {
    pub fn parse(rel: &str, text: &str) -> SourceFile {
        let (code, test_mods) = drop_test_items(strip(text));
        let mut uses = Vec::new();
        let mut blanked = code.clone().into_bytes();
        for (start, end) in use_statements(&code) {
            let line = line_of(&code, start);
            for (path, alias) in use_tree(&code[start + 3..end]) {
                uses.push((line, path, alias));
            }
            blank(&mut blanked[start..=end]);
        }
        let macros = find_words(&code, "macro_rules!")
            .filter_map(|at| ident_at(&code, skip_space(&code, at + "macro_rules!".len())))
            .collect();
        SourceFile {
            rel: rel.to_string(),
            module: module_path(rel),
            uses,
            code: String::from_utf8(blanked).expect("blanking keeps UTF-8"),
            macros,
            test_mods,
        }
    }
}

fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The 1-based line of byte offset `at`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

fn blank(bytes: &mut [u8]) {
    for b in bytes.iter_mut().filter(|b| **b != b'\n') {
        *b = b' ';
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The byte length of the UTF-8 character that starts with `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// `text` with comments and string and char literals blanked.
fn strip(text: &str) -> String {
    let src = text.as_bytes();
    let mut out = src.to_vec();
    let n = src.len();
    let mut i = 0;
    while i < n {
        let end = if src[i..].starts_with(b"//") {
            src[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(n, |p| i + p)
        } else if src[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < n && depth > 0 {
                if src[j..].starts_with(b"/*") {
                    (depth, j) = (depth + 1, j + 2);
                } else if src[j..].starts_with(b"*/") {
                    (depth, j) = (depth - 1, j + 2);
                } else {
                    j += 1;
                }
            }
            j
        } else if let Some(end) = raw_string_end(src, i) {
            end
        } else if src[i] == b'"' {
            let mut j = i + 1;
            while j < n && src[j] != b'"' {
                j += if src[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(n)
        } else if src[i] == b'\'' && i + 1 < n && char_literal(src, i) {
            let from = if src[i + 1] == b'\\' { i + 3 } else { i + 2 };
            src[from..]
                .iter()
                .position(|&b| b == b'\'')
                .map_or(n, |p| from + p + 1)
        } else {
            i += 1;
            continue;
        };
        blank(&mut out[i..end]);
        i = end;
    }
    String::from_utf8(out).expect("blanking keeps UTF-8")
}

/// Whether the `'` at `i` opens a char literal (not a lifetime).
fn char_literal(src: &[u8], i: usize) -> bool {
    src[i + 1] == b'\\' || src.get(i + 1 + char_len(src[i + 1])) == Some(&b'\'')
}

/// Where the raw string (`r"..."`, `br#"..."#`) starting at `i` ends.
fn raw_string_end(src: &[u8], i: usize) -> Option<usize> {
    if i > 0 && is_ident(src[i - 1]) {
        return None;
    }
    let mut j = i + usize::from(src[i] == b'b');
    if src.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = src[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    if src.get(j) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.resize(1 + hashes, b'#');
    let end = src[j + 1..]
        .windows(close.len())
        .position(|w| w == close.as_slice());
    Some(end.map_or(src.len(), |p| j + 1 + p + close.len()))
}

/// `code` with each `#[cfg(test)]` item blanked, and the names of the
/// out-of-line test modules.
fn drop_test_items(code: String) -> (String, Vec<String>) {
    const ATTR: &str = "#[cfg(test)]";
    let mut bytes = code.into_bytes();
    let mut skipped = Vec::new();
    while let Some(start) = bytes.windows(ATTR.len()).position(|w| w == ATTR.as_bytes()) {
        let after = start + ATTR.len();
        let semi = bytes[after..].iter().position(|&b| b == b';');
        let brace = bytes[after..].iter().position(|&b| b == b'{');
        let end = match (semi, brace) {
            (Some(s), b) if b.is_none_or(|b| s < b) => {
                let item = std::str::from_utf8(&bytes[after..after + s]).unwrap_or("");
                let words: Vec<&str> = item.split_whitespace().collect();
                if let [.., "mod", name] = words.as_slice() {
                    skipped.push(name.to_string());
                }
                after + s + 1
            }
            (_, Some(b)) => {
                let (mut depth, mut j) = (0i32, after + b);
                loop {
                    depth += match bytes[j] {
                        b'{' => 1,
                        b'}' => -1,
                        _ => 0,
                    };
                    j += 1;
                    if depth == 0 {
                        break j;
                    }
                }
            }
            _ => bytes.len(),
        };
        blank(&mut bytes[start..end]);
    }
    (
        String::from_utf8(bytes).expect("blanking keeps UTF-8"),
        skipped,
    )
}

/// Offsets of the keyword `use` at word boundaries in `code`.
pub fn find_words<'a>(code: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let b = code.as_bytes();
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(move |&at| {
            let before = at.checked_sub(1).map(|p| b[p]);
            let after = b.get(at + word.len()).copied();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
}

/// (start of `use`, offset of its `;`) for each `use` statement.
fn use_statements(code: &str) -> Vec<(usize, usize)> {
    find_words(code, "use")
        .filter(|&at| {
            code.as_bytes()
                .get(at + 3)
                .is_some_and(u8::is_ascii_whitespace)
        })
        .filter_map(|at| code[at..].find(';').map(|semi| (at, at + semi)))
        .collect()
}

fn skip_space(code: &str, at: usize) -> usize {
    at + code[at..]
        .bytes()
        .take_while(u8::is_ascii_whitespace)
        .count()
}

fn ident_at(code: &str, at: usize) -> Option<String> {
    let len = code[at..].bytes().take_while(|&b| is_ident(b)).count();
    (len > 0).then(|| code[at..at + len].to_string())
}

/// A use tree (`a::{b, c::d as e}`) expanded to (path, bound name) pairs.
fn use_tree(tree: &str) -> Vec<(Vec<String>, String)> {
    let mut squeezed = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    for sep in ["{", "}", ",", "::"] {
        squeezed = squeezed
            .replace(&format!(" {sep}"), sep)
            .replace(&format!("{sep} "), sep);
    }
    let mut out = Vec::new();
    walk(&[], &squeezed, &mut out);
    out
}

fn walk(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, String)>) {
    let mut path = prefix.to_vec();
    if let (Some(open), true) = (tree.find('{'), tree.ends_with('}')) {
        path.extend(
            tree[..open]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        let body = &tree[open + 1..tree.len() - 1];
        let (mut depth, mut start) = (0, 0);
        for (i, ch) in body
            .char_indices()
            .chain(std::iter::once((body.len(), ',')))
        {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    if i > start {
                        walk(&path, &body[start..i], out);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let (written, alias) = tree.split_once(" as ").unwrap_or((tree, ""));
    path.extend(written.split("::").map(String::from));
    if path.last().is_some_and(|s| s == "self") {
        path.pop();
    }
    let alias = if alias.is_empty() {
        path.last().cloned().unwrap_or_default()
    } else {
        alias.to_string()
    };
    out.push((path, alias));
}

/// Each path in `code` that starts with `head` (a word not preceded by an
/// identifier character, `:`, `$` or `.`), followed by `::` segments:
/// (offset, the segments after `head`, whether a `!` follows: a macro).
pub fn paths_after<'a>(
    code: &'a str,
    head: &'a str,
) -> impl Iterator<Item = (usize, Vec<String>, bool)> + 'a {
    let b = code.as_bytes();
    code.match_indices(head).filter_map(move |(at, _)| {
        let before = at.checked_sub(1).map(|p| b[p]);
        if before.is_some_and(|p| is_ident(p) || matches!(p, b':' | b'$' | b'.')) {
            return None;
        }
        let mut segs = Vec::new();
        let mut j = at + head.len();
        while code[j..].starts_with("::") {
            let Some(seg) = ident_at(code, j + 2) else {
                break;
            };
            j += 2 + seg.len();
            segs.push(seg);
        }
        (!segs.is_empty()).then(|| (at, segs, b.get(j) == Some(&b'!')))
    })
}
