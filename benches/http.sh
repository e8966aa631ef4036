#!/usr/bin/env bash
# HTTP hello, side by side: goro's examples/http_hello.rs, Go's net/http twin
# (benches/go/http_hello) and the Tokio + hyper twin
# (benches/tokio-peer/src/bin/http_hello.rs), each at GOMAXPROCS=$PROCS,
# loaded by wrk on the same machine. Prints a markdown table: requests/s and
# wrk's latency percentiles (p50, p99) per server and connection count.
#
#   bash benches/http.sh [-d SECONDS] [-p PROCS] [-r ROUNDS] [CONNS...]
#
# Defaults: 4 s per run, GOMAXPROCS=2, 1 round, 64 and 1000 connections.
# Rounds interleave the servers; the table shows the median round by
# requests/s. Needs wrk (Debian: apt-get install wrk) and the Go toolchain
# benches/compare.sh installs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=4 PROCS=2 ROUNDS=1
while getopts "d:p:r:" opt; do
  case $opt in
    d) DUR=$OPTARG ;;
    p) PROCS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
CONNS=("${@:-64}")
[[ $# -eq 0 ]] && CONNS=(64 1000)

GO=${GO:-/tmp/goenv/bin/go}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
[[ -x $GO ]] || { echo "Go not found at $GO (run benches/compare.sh once, or set GO)" >&2; exit 2; }

log() { echo "http.sh: $*" >&2; }
log "building the three servers"
cargo build --release --quiet --example http_hello --manifest-path "$ROOT/Cargo.toml"
(cd "$ROOT/benches/go" && "$GO" build -o /tmp/goro-go-http-hello ./http_hello)
cargo build --release --quiet --bin http_hello --target-dir /tmp/goro-peer-target \
  --manifest-path "$ROOT/benches/tokio-peer/Cargo.toml"

declare -A SERVER=(
  [goro]="$ROOT/target/release/examples/http_hello"
  [go]=/tmp/goro-go-http-hello
  [hyper]=/tmp/goro-peer-target/release/http_hello
)
ORDER=(goro go hyper)
PORT=18080

# One wrk run against a fresh server: prints "req_per_s p50 p99".
run_one() {
  local impl=$1 conns=$2 addr="127.0.0.1:$PORT"
  GOMAXPROCS=$PROCS "${SERVER[$impl]}" "$addr" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
  done
  local out
  out=$(wrk -t2 -c"$conns" -d"${DUR}s" --latency "http://$addr/" 2>&1)
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "${rps:-0} ${p50:-?} ${p99:-?}"
}

declare -A RESULTS
for conns in "${CONNS[@]}"; do
  for round in $(seq "$ROUNDS"); do
    for impl in "${ORDER[@]}"; do
      log "$impl, $conns connections, round $round"
      RESULTS[$impl,$conns]+="$(run_one "$impl" "$conns")"$'\n'
    done
  done
done

echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; GOMAXPROCS=$PROCS;" \
  "wrk -t2 -cC -d${DUR}s --latency on the same machine; median of $ROUNDS round(s)"
echo "- goro: $(git -C "$ROOT" rev-parse --short HEAD); $("$GO" version | cut -d' ' -f3)"
echo
echo "| connections | goro req/s (p50 / p99) | Go net/http | Tokio + hyper | goro/Go | goro/hyper |"
echo "|---|---|---|---|---:|---:|"
for conns in "${CONNS[@]}"; do
  row="| $conns"
  declare -A RPS=()
  for impl in "${ORDER[@]}"; do
    read -r rps p50 p99 < <(sort -n <<<"${RESULTS[$impl,$conns]}" | sed '/^$/d' |
      awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)')
    RPS[$impl]=$rps
    row+=" | $(printf "%'.0f" "$rps") ($p50 / $p99)"
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "—"), a / b }'; }
  row+=" | $(ratio "${RPS[goro]}" "${RPS[go]}") | $(ratio "${RPS[goro]}" "${RPS[hyper]}") |"
  echo "$row"
done
echo
echo "Ratios are throughput (requests/s): above 1 means goro serves more."
