//! `docs/scheduler_layers.txt`: the layers, the core, and the declared
//! seams and debts (the format is described in the file itself).

use std::collections::{HashMap, HashSet};

/// A `seam` or `debt` line.
pub struct Entry {
    pub kind: String,
    pub from: HashSet<String>,
    pub prefix: Vec<String>,
    pub line: usize,
}

pub struct Rules {
    /// Where the rules were read from, for messages.
    pub file: String,
    /// Folder -> layer, bottom first.
    pub layer: HashMap<String, usize>,
    core: HashSet<String>,
    open_to: HashSet<String>,
    pub entries: Vec<Entry>,
}

impl Rules {
    pub fn parse(file: &str, text: &str) -> Rules {
        let mut rules = Rules {
            file: file.to_string(),
            layer: HashMap::new(),
            core: HashSet::new(),
            open_to: HashSet::new(),
            entries: Vec::new(),
        };
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            match word {
                "layers" => {
                    for (i, tier) in rest.split_whitespace().enumerate() {
                        rules
                            .layer
                            .extend(tier.split('|').map(|f| (f.to_string(), i)));
                    }
                }
                "core" => {
                    let (core, open_to) = rest.split_once(" except ").unwrap_or((rest, ""));
                    rules.core = core.split_whitespace().map(String::from).collect();
                    rules.open_to = open_to.split_whitespace().map(String::from).collect();
                }
                "seam" | "debt" => {
                    let parsed = rest
                        .split_once(" -> ")
                        .and_then(|(from, rest)| Some((from, rest.split_once(": ")?)));
                    let Some((from, (prefix, _reason))) = parsed else {
                        panic!("{file}:{n}: want `{word} FROM -> PATH: reason`");
                    };
                    rules.entries.push(Entry {
                        kind: word.to_string(),
                        from: from.split('|').map(String::from).collect(),
                        prefix: prefix.split("::").map(String::from).collect(),
                        line: n,
                    });
                }
                _ => panic!("{file}:{n}: unknown rule `{word}`"),
            }
        }
        rules
    }

    /// Whether an import from folder `from` into `to` needs a seam: it runs
    /// up the layers, or into the core from a folder it is not open to.
    pub fn checked(&self, from: &str, to: &str) -> bool {
        from != to
            && (self.layer[to] > self.layer[from]
                || (self.core.contains(to) && !self.open_to.contains(from)))
    }

    /// The index of the first entry that declares `path` used from `from`.
    pub fn entry_for(&self, from: &str, path: &[String]) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.from.contains(from) && path.starts_with(&e.prefix))
    }
}
