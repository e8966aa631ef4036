#!/usr/bin/env python3
"""Turn peerbench result lines into a markdown table (used by compare.sh).

Input: lines such as
  impl=go workload=skynet n=1000000 procs=2 ns_per_op=201.5 total_ms=201.5 check=ok
as printed by goro's peerbench, the Go twin (benches/go) and the Tokio twin
(benches/tokio-peer), which also prints impl=crossbeam lines for chan_spsc
over crossbeam-channel between two OS threads. compare.sh adds lines of its own for runs that gave no
line: `impl=X workload=W n=N procs=P status=timeout` (or status=rc=CODE).

Usage: compare.py RAWFILE [--impls goro,go,tokio[,crossbeam]]
Prints, per (workload, procs): the median ns_per_op of each impl over its
check=ok runs (— where an impl has no run, as crossbeam outside chan_spsc), the
ratios goro/go, goro/tokio [, goro/crossbeam] (< 1: goro is faster), and the
median rss_kb_per_task where a workload reports it. Workloads that report
round-trip latency percentiles (rtt_p50_us, rtt_p99_us: echo) get a second
table of their medians.
"""
import argparse
import statistics
import sys
from collections import OrderedDict, defaultdict


def parse(line):
    fields = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            fields[k] = v
    return fields if "impl" in fields and "workload" in fields else None


def fmt_ns(x):
    if x is None:
        return "—"
    if x >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--impls", default="goro,go,tokio")
    args = ap.parse_args()
    impls = args.impls.split(",")

    # (workload, procs) -> impl -> {"ns": [...], "rss": [...], "n": str, "bad": [...]}
    groups = OrderedDict()
    with open(args.raw) as f:
        for line in f:
            r = parse(line)
            if r is None:
                continue
            key = (r["workload"], int(r.get("procs", "0") or 0))
            g = groups.setdefault(
                key, defaultdict(lambda: {"ns": [], "rss": [], "p50": [], "p99": [], "n": "", "bad": []})
            )
            cell = g[r["impl"]]
            cell["n"] = r.get("n", cell["n"])
            if r.get("check") == "ok" and "ns_per_op" in r:
                cell["ns"].append(float(r["ns_per_op"]))
                if "rss_kb_per_task" in r:
                    cell["rss"].append(float(r["rss_kb_per_task"]))
                if "rtt_p99_us" in r:
                    cell["p50"].append(float(r["rtt_p50_us"]))
                    cell["p99"].append(float(r["rtt_p99_us"]))
            else:
                cell["bad"].append(r.get("status") or ("check=" + r.get("check", "?")))

    has_rss = any(c["rss"] for g in groups.values() for c in g.values())
    head = ["workload", "n", "procs"] + [f"{i} ns/op" for i in impls]
    ratio_cols = [("goro", o) for o in impls if o != "goro"] if "goro" in impls else []
    head += [f"{a}/{b}" for a, b in ratio_cols]
    if has_rss:
        head += ["rss kB/task " + "/".join(impls)]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")

    notes = []
    for (workload, procs), g in groups.items():
        med = {}
        for i in impls:
            c = g.get(i)
            med[i] = statistics.median(c["ns"]) if c and c["ns"] else None
            if c and c["bad"]:
                notes.append(f"{workload} procs={procs} {i}: {len(c['bad'])} bad run(s): {', '.join(c['bad'])}")
        n = next((g[i]["n"] for i in impls if i in g and g[i]["n"]), "?")
        row = [workload, n, str(procs)]
        for i in impls:
            cell = fmt_ns(med[i])
            c = g.get(i)
            if c and c["bad"]:
                cell += " (!)" if med[i] is not None else ""
                if med[i] is None:
                    cell = c["bad"][0].replace("|", "/")
            row.append(cell)
        for a, b in ratio_cols:
            row.append(f"{med[a] / med[b]:.2f}" if med.get(a) and med.get(b) else "—")
        if has_rss:
            vals = []
            for i in impls:
                c = g.get(i)
                vals.append(f"{statistics.median(c['rss']):.2f}" if c and c["rss"] else "—")
            row.append(" / ".join(vals) if any(v != "—" for v in vals) else "")
        print("| " + " | ".join(row) + " |")

    print()
    print("Medians over the check=ok runs; ratios < 1 mean goro is faster. "
          "fib_spawn's ns/op is the whole fib(N); timers' is total/N (its total_ms is what counts).")
    for note in notes:
        print(f"- (!) {note}")
    print_latency(groups, impls)
    return 0


def print_latency(groups, impls):
    """The round-trip latency table: median p50 and p99 per impl, in µs."""
    rows = [(key, g) for key, g in groups.items() if any(c["p99"] for c in g.values())]
    if not rows:
        return
    impls = [i for i in impls if any(g.get(i) and g[i]["p99"] for _, g in rows)]
    head = ["workload", "procs"] + [f"{i} p50 µs" for i in impls] + [f"{i} p99 µs" for i in impls]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
    for (workload, procs), g in rows:
        row = [workload, str(procs)]
        for stat in ("p50", "p99"):
            for i in impls:
                c = g.get(i)
                row.append(fmt_ns(statistics.median(c[stat])) if c and c[stat] else "—")
        print("| " + " | ".join(row) + " |")
    print()
    print("Round trips timed one by one: medians over the runs of each run's percentiles.")


if __name__ == "__main__":
    sys.exit(main())
