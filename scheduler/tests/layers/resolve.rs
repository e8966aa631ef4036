//! From the files of `scheduler/src` to the edges between its folders:
//! every path a file uses is made absolute, then canonical (re-exports and
//! `macro_rules!` followed to where the item is defined), then attributed
//! to the folder (a box of the rules) that defines it.

use std::collections::{HashMap, HashSet};

use crate::rules::Rules;
use crate::source::{line_of, paths_after, SourceFile};

/// A path used across folders.
pub struct Edge {
    pub from: String,
    pub path: Vec<String>,
    pub to: String,
    pub rel: String,
    pub line: usize,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (from, path) = (&self.from, self.path.join("::"));
        write!(
            f,
            "scheduler/src/{}:{}: {from} -> {path}",
            self.rel, self.line
        )
    }
}

type Path = Vec<String>;

pub struct Crate {
    files: Vec<SourceFile>,
    modules: HashSet<Path>,
    macros: HashMap<String, Path>,
    /// module -> name it binds with `use` -> absolute path.
    exports: HashMap<Path, HashMap<String, Path>>,
}

impl Crate {
    /// `files` sorted by path; out-of-line test modules are dropped.
    pub fn new(mut files: Vec<SourceFile>) -> Crate {
        let skipped: HashSet<String> = files
            .iter()
            .flat_map(|f| {
                let base = f.module.join("/");
                f.test_mods.iter().flat_map(move |name| {
                    [format!("{name}.rs"), format!("{name}/mod.rs")].map(|cand| {
                        if base.is_empty() {
                            cand
                        } else {
                            format!("{base}/{cand}")
                        }
                    })
                })
            })
            .collect();
        files.retain(|f| !skipped.contains(&f.rel));
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        let mut krate = Crate {
            modules: files.iter().map(|f| f.module.clone()).collect(),
            macros: files
                .iter()
                .flat_map(|f| f.macros.iter().map(|m| (m.clone(), f.module.clone())))
                .collect(),
            exports: HashMap::new(),
            files: Vec::new(),
        };
        for f in &files {
            for (_, written, alias) in &f.uses {
                if let Some(target) = krate.absolute(&f.module, written) {
                    krate
                        .exports
                        .entry(f.module.clone())
                        .or_default()
                        .insert(alias.clone(), target);
                }
            }
        }
        krate.files = files;
        krate
    }

    /// `written` as written in `module`, made absolute; None if external.
    fn absolute(&self, module: &[String], written: &[String]) -> Option<Path> {
        let (head, rest) = written.split_first()?;
        match head.as_str() {
            "crate" | "$crate" => Some(rest.to_vec()),
            "self" => Some([module, rest].concat()),
            "super" => {
                let ups = written.iter().take_while(|s| *s == "super").count();
                let base = &module[..module.len().saturating_sub(ups)];
                Some([base, &written[ups..]].concat())
            }
            _ => {
                let child = [module, std::slice::from_ref(head)].concat();
                self.modules
                    .contains(&child)
                    .then(|| [module, written].concat())
            }
        }
    }

    /// `path` with re-exports and macros followed to their definitions.
    fn canonical(&self, path: Path, macro_call: bool, depth: usize) -> Path {
        if macro_call {
            if let Some(module) = path.last().and_then(|name| self.macros.get(name)) {
                return [module.as_slice(), &path[path.len() - 1..]].concat();
            }
        }
        let split = (0..=path.len())
            .rev()
            .find(|&i| self.modules.contains(&path[..i]))
            .unwrap_or(0);
        let (module, rest) = path.split_at(split);
        let target = rest
            .first()
            .and_then(|name| self.exports.get(module)?.get(name));
        match target {
            Some(target) if depth < 8 && !path.starts_with(target) => {
                self.canonical([target, &rest[1..]].concat(), macro_call, depth + 1)
            }
            _ => path,
        }
    }

    /// The box of `rules` that holds `path`: a top-level module by its
    /// folder name or file name (`runtime.rs`), else the crate root.
    fn folder(&self, rules: &Rules, path: &[String]) -> String {
        let Some(top) = path
            .first()
            .filter(|top| self.modules.contains(std::slice::from_ref(*top)))
        else {
            return "lib.rs".to_string();
        };
        [top.clone(), format!("{top}.rs")]
            .into_iter()
            .find(|name| rules.layer.contains_key(name))
            .unwrap_or_else(|| {
                panic!(
                    "scheduler/src: module `{top}` is in no layer of {}",
                    rules.file
                )
            })
    }

    /// Every path used across folders.
    pub fn edges(&self, rules: &Rules) -> Vec<Edge> {
        let mut out = Vec::new();
        for f in &self.files {
            let from = self.folder(rules, &f.module);
            let mut used: Vec<(usize, Path, bool)> = Vec::new();
            for (line, written, alias) in &f.uses {
                let Some(target) = self.absolute(&f.module, written) else {
                    continue;
                };
                if !self.modules.contains(&target) {
                    used.push((*line, target, false));
                    continue;
                }
                // An imported module: the items used through it.
                let before = used.len();
                for (at, segs, _) in paths_after(&f.code, alias) {
                    used.push((
                        line_of(&f.code, at),
                        [target.as_slice(), &segs].concat(),
                        false,
                    ));
                }
                if used.len() == before {
                    used.push((*line, target, false));
                }
            }
            for head in ["crate", "$crate", "super"] {
                for (at, segs, macro_call) in paths_after(&f.code, head) {
                    let written = [vec![head.to_string()], segs].concat();
                    if let Some(target) = self.absolute(&f.module, &written) {
                        used.push((line_of(&f.code, at), target, macro_call));
                    }
                }
            }
            for (line, target, macro_call) in used {
                let path = self.canonical(target, macro_call, 0);
                let to = self.folder(rules, &path);
                if to != from {
                    out.push(Edge {
                        from: from.clone(),
                        path,
                        to,
                        rel: f.rel.clone(),
                        line,
                    });
                }
            }
        }
        out
    }
}
