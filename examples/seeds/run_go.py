#!/usr/bin/env python3
"""Runs the Go programs the seed twins are twins of, to compare with real Go.

Each twin function in examples/seeds/<doc>.rs carries its complete Go program
in a ```go block of its doc comment. This script extracts every such block,
runs it with `go run` (in a module declaring go 1.23, so loop variables are
per iteration) and prints its output under the same `=== name` headers as
`cargo run --release --example seeds`, so the two can be compared (the
Go programs sleep five times longer than the twins).

A program that exits with a non-zero status (log.Fatal) has it reported on
stderr, as `go run` does, and the script goes on; one that does not build
stops it. Programs importing golang.org/x/sync (errgroup) build against the
copy the Go toolchain vendors in $GOROOT/src/cmd/vendor, so no network is
needed.

    python3 examples/seeds/run_go.py [doc ...]    # e.g. guide; default: all
    GO=/path/to/go python3 examples/seeds/run_go.py
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

SEEDS = pathlib.Path(__file__).resolve().parent
DOCS = ["python_compare", "chapter8", "deep_dive", "patterns", "guide"]
# A ```go block inside `///` lines, then the function it documents.
TWIN = re.compile(r"((?:\s*///.*\n)+?)\s*pub fn (\w+)\(")


def go_programs(doc):
    """(name, Go source) of each twin in examples/seeds/<doc>.rs, in order."""
    text = (SEEDS / f"{doc}.rs").read_text()
    for comment, name in TWIN.findall(text):
        lines = [re.sub(r"^\s*/// ?", "", line) for line in comment.splitlines()]
        if "```go" not in lines:
            continue
        start = lines.index("```go") + 1
        end = lines.index("```", start)
        yield name, "\n".join(lines[start:end]) + "\n"


def write_module(go, tmp, source):
    """Writes the program's module into `tmp`, with x/sync if it uses it."""
    mod = "module twin\n\ngo 1.23\n"
    if "golang.org/x/sync" in source:
        goroot = subprocess.run(
            [go, "env", "GOROOT"], check=True, capture_output=True, text=True
        ).stdout.strip()
        vendored = pathlib.Path(goroot, "src/cmd/vendor/golang.org/x/sync")
        shutil.copytree(vendored, pathlib.Path(tmp, "xsync"))
        pathlib.Path(tmp, "xsync/go.mod").write_text(
            "module golang.org/x/sync\n\ngo 1.23\n"
        )
        mod += "\nrequire golang.org/x/sync v0.0.0\n"
        mod += "\nreplace golang.org/x/sync => ./xsync\n"
    pathlib.Path(tmp, "go.mod").write_text(mod)
    pathlib.Path(tmp, "main.go").write_text(source)


def main():
    go = os.environ.get("GO", "go")
    for doc in sys.argv[1:] or DOCS:
        print(f"##### {doc}", flush=True)
        for name, source in go_programs(doc):
            print(f"=== {name}", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                write_module(go, tmp, source)
                subprocess.run([go, "build", "-o", "twin", "."], cwd=tmp, check=True)
                status = subprocess.run(["./twin"], cwd=tmp).returncode
                if status != 0:
                    print(f"exit status {status}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
