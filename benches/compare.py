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
table of their medians. The program shapes (lines with cpu_ns_per_op, the
CPU ones also with ideal_ratio, wall time over the ideal, and goro's with
p_busy, how busy the Ps were with bursts) get a table of their own instead of a row in
the first. A workload run at several N gets a
row per (N, procs).
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

    # (workload, n, procs) -> impl -> {"ns": [...], "rss": [...], ..., "bad": [...]}
    groups = OrderedDict()
    shape_workloads = set()  # those whose lines carry cpu_ns_per_op
    with open(args.raw) as f:
        for line in f:
            r = parse(line)
            if r is None:
                continue
            key = (r["workload"], r.get("n", "?"), int(r.get("procs", "0") or 0))
            g = groups.setdefault(key, defaultdict(lambda: defaultdict(list)))
            cell = g[r["impl"]]
            if "cpu_ns_per_op" in r:
                shape_workloads.add(r["workload"])
            if r.get("check") == "ok" and "ns_per_op" in r:
                cell["ns"].append(float(r["ns_per_op"]))
                for field in ("rss_kb_per_task", "rtt_p50_us", "rtt_p99_us", "ideal_ratio", "p_busy", "cpu_ns_per_op"):
                    if field in r:
                        cell[field].append(float(r[field]))
            else:
                cell["bad"].append(r.get("status") or ("check=" + r.get("check", "?")))

    shapes = OrderedDict((k, g) for k, g in groups.items() if k[0] in shape_workloads)
    primitives = OrderedDict((k, g) for k, g in groups.items() if k[0] not in shape_workloads)
    notes = bad_run_notes(groups, impls)
    if primitives:
        print_primitives(primitives, impls)
    print_latency(primitives, impls)
    print_shapes(shapes, impls)
    for note in notes:
        print(f"- (!) {note}")
    return 0


def bad_run_notes(groups, impls):
    """One line per (group, impl) with runs that gave no check=ok result."""
    return [
        f"{workload} n={n} procs={procs} {i}: {len(g[i]['bad'])} bad run(s): {', '.join(g[i]['bad'])}"
        for (workload, n, procs), g in groups.items()
        for i in impls
        if i in g and g[i]["bad"]
    ]


def median_of(g, impl, field):
    """The median of `field` over `impl`'s check=ok runs in group g, or None."""
    c = g.get(impl)
    return statistics.median(c[field]) if c and c[field] else None


def print_primitives(groups, impls):
    """The main table: median ns/op per impl, goro's ratios, RSS per task."""
    has_rss = any(c["rss_kb_per_task"] for g in groups.values() for c in g.values())
    head = ["workload", "n", "procs"] + [f"{i} ns/op" for i in impls]
    ratio_cols = [("goro", o) for o in impls if o != "goro"] if "goro" in impls else []
    head += [f"{a}/{b}" for a, b in ratio_cols]
    if has_rss:
        head += ["rss kB/task " + "/".join(impls)]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")

    for (workload, n, procs), g in groups.items():
        med = {i: median_of(g, i, "ns") for i in impls}
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
                rss = median_of(g, i, "rss_kb_per_task")
                vals.append(f"{rss:.2f}" if rss is not None else "—")
            row.append(" / ".join(vals) if any(v != "—" for v in vals) else "")
        print("| " + " | ".join(row) + " |")

    print()
    print("Medians over the check=ok runs; ratios < 1 mean goro is faster. "
          "fib_spawn's ns/op is the whole fib(N); timers' is total/N (its total_ms is what counts).")


def print_latency(groups, impls):
    """The round-trip latency table: median p50 and p99 per impl, in µs."""
    rows = [(key, g) for key, g in groups.items() if any(c["rtt_p99_us"] for c in g.values())]
    if not rows:
        return
    impls = [i for i in impls if any(g.get(i) and g[i]["rtt_p99_us"] for _, g in rows)]
    head = ["workload", "procs"] + [f"{i} p50 µs" for i in impls] + [f"{i} p99 µs" for i in impls]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
    for (workload, _, procs), g in rows:
        row = [workload, str(procs)]
        for stat in ("rtt_p50_us", "rtt_p99_us"):
            for i in impls:
                row.append(fmt_ns(median_of(g, i, stat)))
        print("| " + " | ".join(row) + " |")
    print()
    print("Round trips timed one by one: medians over the runs of each run's percentiles.")


def print_shapes(groups, impls):
    """The program shapes' table: median wall/ideal, P busy and CPU µs per
    operation per impl, with goro's ratios to each other impl (not for P
    busy, a fraction)."""
    if not groups:
        return
    impls = [i for i in impls if any(i in g and g[i]["ns"] for g in groups.values())]
    others = [i for i in impls if i != "goro"] if "goro" in impls else []
    head = ["shape", "n", "procs"]
    head += [f"{i} wall/ideal" for i in impls] + [f"goro/{o}" for o in others]
    busy = [i for i in impls if any(i in g and g[i]["p_busy"] for g in groups.values())]
    head += [f"{i} P busy" for i in busy]
    head += [f"{i} cpu µs/op" for i in impls] + [f"goro/{o}" for o in others]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")
    for (workload, n, procs), g in groups.items():
        row = [workload, n, str(procs)]
        columns = (
            ("ideal_ratio", lambda x: f"{x:.2f}", True, impls),
            ("p_busy", lambda x: f"{x:.2f}", False, busy),
            ("cpu_ns_per_op", lambda x: fmt_ns(x / 1e3), True, impls),
        )
        for field, fmt, ratios, shown in columns:
            med = {i: median_of(g, i, field) for i in impls}
            row += [fmt(med[i]) if med[i] is not None else "—" for i in shown]
            if ratios:
                row += [f"{med['goro'] / med[o]:.2f}" if med["goro"] and med[o] else "—" for o in others]
        print("| " + " | ".join(row) + " |")
    print()
    print("Medians over the check=ok runs. wall/ideal: wall time over the CPU work measured "
          "in-process divided by min(procs, workers) (1.00 is every P busy); P busy: the "
          "bursts' summed wall time over wall time times min(procs, workers) (1.00 is a burst "
          "running on each of those Ps all along, 0.50 at 2 Ps is one M doing all the work; "
          "unlike wall/ideal, other processes' load does not hide placement in it; goro only, "
          "see benches/shapes/mod.rs); cpu µs/op: the "
          "process's user+sys time per operation (a job, an item or a request). "
          "goro/X < 1: goro is better.")


if __name__ == "__main__":
    sys.exit(main())
