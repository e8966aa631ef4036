#!/usr/bin/env python3
"""Draws a GORO_TRACE file (Chrome trace-event JSON) as an SVG timeline.

    python3 docs/trace_svg.py trace.json out.svg

One row per M (the tracks Perfetto shows): a box per goroutine run,
labelled with the goroutine id when it fits, and ticks above it for the
instants (spawn grey, park blue, wake green, steal red). Standard library
only, so it runs where matplotlib is not installed.
"""

import json
import sys
import os
from html import escape

WIDTH, LEFT, ROW, TOP = 1200, 110, 64, 40
TICKS = {"spawn": "#888888", "park": "#1f6fd1", "wake": "#2a9d3a", "steal": "#d62828"}


def colour(goid):
    hue = (goid * 67) % 360
    return f"hsl({hue},55%,68%)"


def main(src, dst):
    events = json.load(open(src))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M"}
    timed = [e for e in events if e["ph"] in ("X", "i") and e["tid"] in names]
    tids = sorted({e["tid"] for e in timed})
    t0 = min(e["ts"] for e in timed)
    t1 = max(e["ts"] + e.get("dur", 0) for e in timed)
    scale = (WIDTH - LEFT - 20) / max(t1 - t0, 1e-3)
    x = lambda ts: LEFT + (ts - t0) * scale
    height = TOP + ROW * len(tids) + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="13">{escape(os.path.basename(src))}: {t1 - t0:.0f} µs, '
        "one row per M; boxes are goroutine runs; ticks: "
        + ", ".join(f'<tspan fill="{c}">{k}</tspan>' for k, c in TICKS.items())
        + "</text>",
    ]
    for row, tid in enumerate(tids):
        y = TOP + row * ROW
        out.append(f'<text x="8" y="{y + 36}">{escape(names[tid])}</text>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 20}" y1="{y + 58}" y2="{y + 58}" stroke="#ddd"/>')
        for e in (e for e in timed if e["tid"] == tid):
            if e["ph"] == "X":
                w = max(e["dur"] * scale, 0.5)
                goid = e["args"]["goid"]
                out.append(
                    f'<rect x="{x(e["ts"]):.2f}" y="{y + 22}" width="{w:.2f}" height="30" '
                    f'fill="{colour(goid)}" stroke="#555" stroke-width="0.3">'
                    f'<title>G{goid} {e["dur"]:.3f} µs, then {e["args"]["end"]}</title></rect>'
                )
                if w > 22:
                    out.append(f'<text x="{x(e["ts"]) + 2:.2f}" y="{y + 41}">G{goid}</text>')
            else:
                c = TICKS.get(e["name"], "#000")
                out.append(
                    f'<line x1="{x(e["ts"]):.2f}" x2="{x(e["ts"]):.2f}" y1="{y + 6}" y2="{y + 20}" '
                    f'stroke="{c}"><title>{escape(e["name"])} {escape(json.dumps(e["args"]))}</title></line>'
                )
    axis = TOP + ROW * len(tids) + 20
    for i in range(6):
        ts = t0 + (t1 - t0) * i / 5
        out.append(f'<text x="{x(ts) - 10:.0f}" y="{axis}">{ts - t0:.0f} µs</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
