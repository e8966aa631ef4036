#!/usr/bin/env python3
"""Draws the module map of scheduler/src and checks its layering.

    python3 docs/scheduler_map.py           # writes docs/scheduler_map.svg
    python3 docs/scheduler_map.py --check   # lists imports that break the layers
    python3 docs/scheduler_map.py --debt    # the imports on the debt list
    python3 docs/scheduler_map.py --edges   # every import across folders

Reads every scheduler/src/**/*.rs, strips comments, strings and
#[cfg(test)] items, and collects the paths each file uses across folders:
`use crate::..` / `use super::..` trees and `crate::..` paths in code, with
imported modules followed to the items used through them. Each path is made
canonical (re-exports and macros followed to where the item is defined) and
attributed to its folder: sys, config, g, trace, sched, time, netpoll,
blocking, monitor, runtime.rs or lib.rs.

The layers, the core and the declared seams and debts are read from
docs/scheduler_layers.txt; scheduler/tests/layers.rs runs the same check in
Rust, so `cargo test` enforces what this script draws. Standard library only.
"""

import os
import re
import sys
from collections import defaultdict
from html import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "scheduler", "src")
RULES = os.path.join(ROOT, "docs", "scheduler_layers.txt")
SVG = os.path.join(ROOT, "docs", "scheduler_map.svg")

# What each folder owns, for the boxes (docs/design.md, "Map", says more).
OWNS = {
    "lib.rs": "the facade: mod list, pub use",
    "runtime.rs": "Builder, Runtime::run: a run's lifecycle",
    "monitor": "sysmon and read-only observers",
    "blocking": "the helper pool for blocking calls",
    "netpoll": "epoll, PollDesc, the blocker M",
    "time": "per-P timer heaps, sleep_until",
    "sched": "the core: M, P queues, schedule, park",
    "trace": "tracing events, GORO_TRACE files",
    "g": "the goroutine, its state, its task",
    "config": "settings, GODEBUG, the P count",
    "sys": "futex, lock, thread ids, prefetch",
}


# ---- reading the rules ------------------------------------------------------


class Rules:
    def __init__(self, path):
        self.layer = {}  # folder -> layer index, bottom first
        self.core, self.open_to = set(), set()
        self.entries = []  # (kind, froms, path segments, reason, line number)
        for n, line in enumerate(open(path), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            if word == "layers":
                for i, tier in enumerate(rest.split()):
                    for folder in tier.split("|"):
                        self.layer[folder] = i
            elif word == "core":
                core, _, open_to = rest.partition(" except ")
                self.core, self.open_to = set(core.split()), set(open_to.split())
            elif word in ("seam", "debt"):
                froms, _, rest = rest.partition(" -> ")
                target, _, reason = rest.partition(": ")
                if not reason:
                    sys.exit(f"{path}:{n}: want `{word} FROM -> PATH: reason`")
                self.entries.append((word, set(froms.split("|")), tuple(target.split("::")), reason, n))
            else:
                sys.exit(f"{path}:{n}: unknown rule `{word}`")

    def checked(self, src, dst):
        """Whether an import from folder `src` into `dst` needs a seam."""
        if src == dst:
            return False
        upward = self.layer[dst] > self.layer[src]
        into_core = dst in self.core and src not in self.open_to
        return upward or into_core

    def entry_for(self, src, path):
        for entry in self.entries:
            kind, froms, prefix, _, _ = entry
            if src in froms and path[: len(prefix)] == prefix:
                return entry
        return None


# ---- reading Rust -----------------------------------------------------------


def strip(text):
    """`text` with comments, string and char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)

    def blank(s):
        out.append(re.sub(r"[^\n]", " ", s))

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(text[i:j])
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(text[i:j])
            i = j
        elif m := re.compile(r'b?r(#*)"').match(text, i):
            if i and (text[i - 1].isalnum() or text[i - 1] == "_"):
                out.append(c)
                i += 1
                continue
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            blank(text[i:j])
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(text[i : j + 1])
            i = j + 1
        elif c == "'" and (text.startswith("\\", i + 1) or text.startswith("'", i + 2)):
            j = i + 2 if text[i + 1] == "\\" else i + 1
            j = text.find("'", j + 1)
            blank(text[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CFG_TEST = re.compile(re.escape("#[cfg(test)]"))


def drop_test_items(code):
    """`code` with each #[cfg(test)] item blanked; the names of the
    out-of-line test modules (`#[cfg(test)] mod tests;`)."""
    skipped = []
    while m := CFG_TEST.search(code):
        semi, brace = code.find(";", m.end()), code.find("{", m.end())
        if semi >= 0 and (brace < 0 or semi < brace):
            end = semi + 1
            if mod := re.search(r"\bmod\s+(\w+)\s*;", code[m.end() : end]):
                skipped.append(mod.group(1))
        else:
            depth, end = 0, brace
            while True:
                depth += {"{": 1, "}": -1}.get(code[end], 0)
                end += 1
                if depth == 0:
                    break
        code = code[: m.start()] + re.sub(r"[^\n]", " ", code[m.start() : end]) + code[end:]
    return code, skipped


def use_tree(tree):
    """Expands a use tree (`a::{b, c::d as e}`) to (segments, alias) pairs."""
    tree = re.sub(r"\s*([{},]|::)\s*", r"\1", re.sub(r"\s+", " ", tree.strip()))
    out = []

    def walk(prefix, t):
        if t.endswith("}"):
            head, body = t[: t.index("{")], t[t.index("{") + 1 : -1]
            base = prefix + [s for s in head.split("::") if s]
            depth, start = 0, 0
            for i, ch in enumerate(body + ","):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                if ch == "," and depth == 0:
                    if body[start:i]:
                        walk(base, body[start:i])
                    start = i + 1
            return
        path, _, alias = t.partition(" as ")
        segs = prefix + path.split("::")
        if segs[-1] == "self":
            segs = segs[:-1]
        out.append((segs, alias or segs[-1]))

    walk([], tree)
    return out


USE = re.compile(r"\buse\s+([^;]+);")
PATH = re.compile(r"(?<![\w:$.])(\$?crate|super)((?:::\w+)+)(!?)")


class File:
    def __init__(self, rel, text):
        self.rel = rel
        self.module = module_path(rel)
        code, self.test_mods = drop_test_items(strip(text))
        self.uses = []  # (line, segments as written, alias)
        for m in USE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            for segs, alias in use_tree(m.group(1)):
                self.uses.append((line, segs, alias))
        self.code = USE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
        self.macros = re.findall(r"\bmacro_rules!\s*(\w+)", code)


def module_path(rel):
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib"):
        parts.pop()
    return tuple(parts)


def read_sources():
    files = {}
    for dirpath, _, names in sorted(os.walk(SRC)):
        for name in sorted(names):
            if name.endswith(".rs"):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, SRC).replace(os.sep, "/")
                files[rel] = File(rel, open(full, encoding="utf-8").read())
    skipped = set()
    for f in files.values():
        base = "/".join(f.module)
        for name in f.test_mods:
            for cand in (f"{name}.rs", f"{name}/mod.rs"):
                skipped.add(f"{base}/{cand}" if base else cand)
    for rel in skipped:
        files.pop(rel, None)
    return files


# ---- resolving paths --------------------------------------------------------


class Crate:
    def __init__(self, files):
        self.files = files
        self.modules = {f.module for f in files.values()}
        self.macros = {name: f.module for f in files.values() for name in f.macros}
        self.exports = defaultdict(dict)  # module -> name -> absolute segments
        for f in sorted(files.values(), key=lambda f: f.rel):
            for _, segs, alias in f.uses:
                if (target := self.absolute(f.module, segs)) is not None:
                    self.exports[f.module][alias] = target

    def absolute(self, module, segs):
        """`segs` as written in `module`, made absolute; None if external."""
        head, rest = segs[0], segs[1:]
        if head in ("crate", "$crate"):
            return tuple(rest)
        if head == "self":
            return module + tuple(rest)
        if head == "super":
            up = module
            while segs and segs[0] == "super":
                up, segs = up[:-1], segs[1:]
            return up + tuple(segs)
        if module + (head,) in self.modules:
            return module + tuple(segs)
        return None

    def canonical(self, path, macro=False, depth=0):
        """`path` with re-exports and macros followed to their definitions."""
        if macro and path and path[-1] in self.macros:
            return self.macros[path[-1]] + (path[-1],)
        split = max(i for i in range(len(path) + 1) if path[:i] in self.modules)
        module, rest = path[:split], path[split:]
        if rest and depth < 8 and (target := self.exports[module].get(rest[0])):
            if target != path[: len(target)]:
                return self.canonical(target + rest[1:], macro, depth + 1)
        return path

    def folder(self, rules, path):
        """The box of `rules` that holds `path`: a top-level module, by its
        folder name or file name (`runtime.rs`), else the crate root."""
        if not path or (path[0],) not in self.modules:
            return "lib.rs"
        for name in (path[0], path[0] + ".rs"):
            if name in rules.layer:
                return name
        sys.exit(f"scheduler/src: module `{path[0]}` is in no layer of {os.path.relpath(RULES, ROOT)}")


def edges(rules, crate):
    """Every path used across folders: (from folder, canonical path, to
    folder, file, line)."""
    out = []
    for f in sorted(crate.files.values(), key=lambda f: f.rel):
        src = crate.folder(rules, f.module)
        used = []  # (line, absolute path, is a macro)
        for line, segs, alias in f.uses:
            target = crate.absolute(f.module, segs)
            if target is None:
                continue
            if target in crate.modules:
                through = re.compile(rf"(?<![\w:$.]){re.escape(alias)}((?:::\w+)+)")
                hits = [
                    (f.code.count("\n", 0, m.start()) + 1, target + tuple(m.group(1).split("::")[1:]), False)
                    for m in through.finditer(f.code)
                ]
                used += hits or [(line, target, False)]
            else:
                used.append((line, target, False))
        for m in PATH.finditer(f.code):
            segs = [m.group(1)] + m.group(2).split("::")[1:]
            target = crate.absolute(f.module, segs)
            used.append((f.code.count("\n", 0, m.start()) + 1, target, bool(m.group(3))))
        for line, target, macro in used:
            path = crate.canonical(target, macro)
            dst = crate.folder(rules, path)
            if dst != src:
                out.append((src, path, dst, f.rel, line))
    return out


# ---- checking ---------------------------------------------------------------


def check(rules, found):
    """(violations, stale entries, the edges each entry covers by index)."""
    by_entry = defaultdict(list)
    violations = []
    for e in found:
        src, path, dst = e[:3]
        if not rules.checked(src, dst):
            continue
        entry = rules.entry_for(src, path)
        (by_entry[rules.entries.index(entry)] if entry else violations).append(e)
    sideways = {(e[0], e[2]) for e in found if rules.layer[e[0]] == rules.layer[e[2]]}
    for a, b in sorted(sideways):
        if a < b and (b, a) in sideways:
            violations += [e for e in found if {e[0], e[2]} == {a, b}]
    stale = [entry for i, entry in enumerate(rules.entries) if i not in by_entry]
    return violations, stale, by_entry


def show(e):
    src, path, dst, rel, line = e
    return f"scheduler/src/{rel}:{line}: {src} -> {'::'.join(path)}"


# ---- drawing ----------------------------------------------------------------

BOX_W, BOX_H, GAP, TOP_Y, CHAR_W = 290, 34, 22, 60, 6.2
COLOURS = {"down": "#999999", "seam": "#1f6fd1", "debt": "#d62828"}


def label_of(paths):
    """`sched::park::{Waiter, park}` for the paths one arrow carries."""
    by_module = defaultdict(set)
    for p in paths:
        by_module["::".join(p[:-1]) or "crate"].add(p[-1])
    return "; ".join(
        f"{m}::{next(iter(items))}" if len(items) == 1 else f"{m}::{{{', '.join(sorted(items))}}}"
        for m, items in sorted(by_module.items())
    )


def tooltip(es):
    """Which files use which paths (no line numbers, so that the picture
    changes only when the imports do)."""
    return "\n".join(sorted({f"{e[3]}: {'::'.join(e[1])}" for e in es}))


def draw(rules, found):
    order = sorted(rules.layer, key=lambda f: (-rules.layer[f], f))
    y = {f: TOP_Y + i * (BOX_H + GAP) for i, f in enumerate(order)}
    mid = lambda f: y[f] + BOX_H / 2
    pairs = defaultdict(list)
    for e in found:
        pairs[(e[0], e[2])].append(e)
    arrows = []  # (src, dst, kind, edges)
    for (src, dst), es in pairs.items():
        if not rules.checked(src, dst):
            arrows.append((src, dst, "down", es))
            continue
        seam = [e for e in es if rules.entry_for(src, e[1]) and rules.entry_for(src, e[1])[0] == "seam"]
        debt = [e for e in es if e not in seam]
        arrows += [(src, dst, kind, v) for kind, v in (("seam", seam), ("debt", debt)) if v]
    text = lambda src, es: f"{src} → {label_of({e[1] for e in es})}"
    x0 = round(40 + max([CHAR_W * len(text(a[0], a[3])) for a in arrows if a[2] != "down"], default=0) + 300)
    height = TOP_Y + len(order) * (BOX_H + GAP) + 40
    width = x0 + BOX_W + 260
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        "<defs>"
        + "".join(
            f'<marker id="{k}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
            for k, c in COLOURS.items()
        )
        + "</defs>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="12" y="22" font-size="13">scheduler/src: folders bottom-up in layer order; '
        "an arrow points from the importer to what it imports; drawn by docs/scheduler_map.py</text>",
        '<text x="12" y="40">right: imports down the layers (plain); left: imports up the layers or into the '
        f'core, dashed: <tspan fill="{COLOURS["seam"]}">declared seams</tspan>, '
        f'<tspan fill="{COLOURS["debt"]}">debt being cut</tspan></text>',
    ]
    labels = []
    for src, dst, kind, es in arrows:
        span = abs(order.index(src) - order.index(dst))
        y1, y2 = mid(src), mid(dst)
        if kind == "down":
            bulge = 30 + 26 * span
            x = x0 + BOX_W
            out.append(
                f'<path d="M{x},{y1 - 4} C{x + bulge},{y1 - 4} {x + bulge},{y2 + 4} {x},{y2 + 4}" '
                f'fill="none" stroke="{COLOURS["down"]}" marker-end="url(#down)">'
                f"<title>{escape(src)} imports {escape(dst)}</title></path>"
            )
            continue
        shift = 6 if kind == "debt" else -6
        bulge = 30 + 30 * span
        x = x0
        out.append(
            f'<path d="M{x},{y1 + shift} C{x - bulge},{y1 + shift} {x - bulge},{y2 + shift} {x},{y2 + shift}" '
            f'fill="none" stroke="{COLOURS[kind]}" stroke-dasharray="5,3" marker-end="url(#{kind})">'
            f"<title>{escape(tooltip(es))}</title></path>"
        )
        apex = (x - 0.75 * bulge, (y1 + y2) / 2 + shift)
        labels.append((apex, kind, text(src, es)))
    # Labels in a column on the left, each joined to its arrow's apex.
    labels.sort(key=lambda l: l[0][1])
    slot = TOP_Y
    for (ax, ay), kind, words in labels:
        ty = max(ay, slot)
        slot = ty + 13
        out.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{x0 - 276}" y2="{ty - 4:.1f}" stroke="{COLOURS[kind]}" '
            'stroke-width="0.4"/>'
            f'<text x="{x0 - 280}" y="{ty:.1f}" text-anchor="end" fill="{COLOURS[kind]}">{escape(words)}</text>'
        )
    for f in order:
        out.append(
            f'<rect x="{x0}" y="{y[f]}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#f4f4f4" stroke="#555"/>'
            f'<text x="{x0 + 8}" y="{y[f] + 15}" font-weight="bold">{escape(f)}</text>'
            f'<text x="{x0 + 8}" y="{y[f] + 28}" fill="#444">{escape(OWNS.get(f, ""))}</text>'
        )
        if list(rules.layer.values()).count(rules.layer[f]) > 1:
            out.append(f'<text x="{x0 + BOX_W - 8}" y="{y[f] + 15}" text-anchor="end" fill="#777">one layer</text>')
    height = max(height, slot + 20)
    out[0] = out[0].replace(f'height="{TOP_Y + len(order) * (BOX_H + GAP) + 40}"', f'height="{height:.0f}"', 1)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(args):
    rules = Rules(RULES)
    found = edges(rules, Crate(read_sources()))
    violations, stale, by_entry = check(rules, found)
    if "--edges" in args:
        for e in found:
            print(show(e))
        return 0
    if "--debt" in args:
        for i, (kind, froms, prefix, reason, n) in enumerate(rules.entries):
            if kind == "debt":
                print(f"{'|'.join(sorted(froms))} -> {'::'.join(prefix)}: {reason}")
                for e in by_entry[i]:
                    print(f"    {show(e)}")
        return 0
    if "--check" in args:
        for e in violations:
            print(f"{show(e)}: not a declared seam ({os.path.relpath(RULES, ROOT)})")
        for kind, _, prefix, _, n in stale:
            print(f"{os.path.relpath(RULES, ROOT)}:{n}: {kind} `{'::'.join(prefix)}` matches no import: delete it")
        debts = sum(len(es) for i, es in by_entry.items() if rules.entries[i][0] == "debt")
        print(f"{len(violations)} undeclared, {len(stale)} stale; {debts} imports on the debt list", file=sys.stderr)
        return 1 if violations or stale else 0
    open(SVG, "w").write(draw(rules, found))
    print(f"wrote {os.path.relpath(SVG, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
