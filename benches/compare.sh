#!/usr/bin/env bash
# Compare goro's `peerbench` with its Go twin (benches/go) and its Tokio twin
# (benches/tokio-peer) on the shared workloads, and print a markdown table.
# chan_spsc also runs over crossbeam-channel between two OS threads (a
# crossbeam column, its yardstick in the channels issue).
#
#   bash benches/compare.sh [-r REPS] [-p 1,2] [-o RAWFILE] [-t TIMEOUT_S] [WORKLOAD[=N]...]
#
#   -r REPS     runs of each impl per (workload, procs), interleaved
#               goro, go, tokio, [crossbeam,] goro, go, ... (default 3)
#   -p LIST     comma-separated GOMAXPROCS values (default: 1 and nproc)
#   -o FILE     raw result lines are appended here (default /tmp/goro-bench-raw.txt)
#   -t SECONDS  per-run timeout; a run past it is reported, not waited on (default 120)
#   WORKLOAD    any of the names below (default: all), optionally =N to change N,
#               or =N1,N2,... for one row per N, e.g. `skynet=10000 gate_workers=2,8`
#
# The program shapes (gate_workers gate_workers_wg pool_cpu pool_cpu_wg
# pipeline_cpu fanout_cpu light_reqresp, benches/shapes/) get a table of their own: wall time over
# the ideal (CPU work measured in-process / min(P, workers)) and the
# process's CPU time per operation.
#
# GORO_PEERBENCH=PATH uses that goro binary instead of building one (to
# compare two builds of goro in the same hour: run once per binary).
#
# Every run is a fresh process with GOMAXPROCS set (under `nice -n -20` when
# root). The table and the machine description go to stdout (ready to paste
# into docs/benchmarks.md); progress goes to stderr.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCHES="$ROOT/benches"
PEER_TARGET=/tmp/goro-peer-target
GO_BIN="$BENCHES/go/goro-go-twin"
TOKIO_BIN="$PEER_TARGET/release/tokio-peer"

SHAPE_WORKLOADS=(gate_workers gate_workers_wg pool_cpu pool_cpu_wg pipeline_cpu fanout_cpu light_reqresp)
ALL_WORKLOADS=(spawn_join skynet yield fib_spawn pingpong chan_spsc chan_mpmc ring select2 timers mutex mutex_uncontended wg park_mem ctx_cancel echo fs_read exec block_on_ready notify_pingpong chan_async "${SHAPE_WORKLOADS[@]}")
declare -A DEFAULT_N=(
  [spawn_join]=1000000 [skynet]=1000000 [yield]=10000000 [fib_spawn]=30
  [pingpong]=1000000 [chan_spsc]=10000000 [chan_mpmc]=10000000 [ring]=10000000
  [select2]=10000000 [timers]=100000 [mutex]=1000000 [mutex_uncontended]=10000000
  [wg]=1000000 [park_mem]=100000 [ctx_cancel]=10000 [echo]=200000
  [fs_read]=128000 [exec]=3200
  [block_on_ready]=100000000 [notify_pingpong]=10000 [chan_async]=10000000
  [gate_workers]=2,8,64 [gate_workers_wg]=2,8,64 [pool_cpu]=200 [pool_cpu_wg]=200
  [pipeline_cpu]=200 [fanout_cpu]=25 [light_reqresp]=110000
)
# The async bridge's workloads (goro::block_on against Tokio) have no Go twin.
NO_GO_WORKLOADS=(block_on_ready notify_pingpong chan_async)
# Workloads that also have a crossbeam run: the Tokio twin's binary runs
# WORKLOAD_crossbeam on two std threads and reports it as impl=crossbeam.
CROSSBEAM_WORKLOADS=(chan_spsc)
# Workloads the Tokio twin does not have (goro's OS calls and the program
# shapes against Go's only).
NO_TOKIO_WORKLOADS=(fs_read exec "${SHAPE_WORKLOADS[@]}")

REPS=3
PROCS="1,$(nproc)"
RAW=/tmp/goro-bench-raw.txt
TIMEOUT=120

usage() { sed -n '2,/^set -uo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while getopts "r:p:o:t:h" opt; do
  case $opt in
    r) REPS=$OPTARG ;;
    p) PROCS=$OPTARG ;;
    o) RAW=$OPTARG ;;
    t) TIMEOUT=$OPTARG ;;
    h) usage 0 ;;
    *) usage 2 ;;
  esac
done
shift $((OPTIND - 1))

WORKLOADS=()
declare -A N_OF=()
for arg in "${@:-${ALL_WORKLOADS[@]}}"; do
  w=${arg%%=*}
  if [[ -z ${DEFAULT_N[$w]:-} ]]; then
    echo "unknown workload: $w (known: ${ALL_WORKLOADS[*]})" >&2
    exit 2
  fi
  WORKLOADS+=("$w")
  if [[ $arg == *=* ]]; then N_OF[$w]=${arg#*=}; else N_OF[$w]=${DEFAULT_N[$w]}; fi
done
# Dedupe the procs list, keeping its order.
PROCS_LIST=()
for p in ${PROCS//,/ }; do
  [[ " ${PROCS_LIST[*]} " == *" $p "* ]] || PROCS_LIST+=("$p")
done

log() { echo "compare.sh: $*" >&2; }

# ------------------------------------------------------------------ building

IMPLS=()
declare -A BIN=()

# goro's peerbench (may not exist yet).
if [[ -n ${GORO_PEERBENCH:-} ]]; then
  log "goro's peerbench: $GORO_PEERBENCH"
  BIN[goro]=$GORO_PEERBENCH
  IMPLS+=(goro)
elif log "building goro's peerbench ..." &&
  (cd "$ROOT" && cargo build --release --features tokio --bin peerbench) >/tmp/goro-peerbench-build.log 2>&1; then
  goro_target=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  BIN[goro]="${goro_target:-$ROOT/target}/release/peerbench"
  IMPLS+=(goro)
else
  log "goro's peerbench did not build: skipping the goro column (see /tmp/goro-peerbench-build.log)"
fi

# Go >= 1.27 (benches/find_go.sh).
source "$BENCHES/find_go.sh"
find_go
if [[ -n $GO ]]; then
  log "building the Go twin with $("$GO" version) ..."
  if (cd "$BENCHES/go" && GOTOOLCHAIN=local "$GO" build -o "$GO_BIN" .) >&2; then
    BIN[go]=$GO_BIN
    IMPLS+=(go)
  else
    log "the Go twin did not build: skipping the go column"
  fi
else
  log "no Go >= 1.27: skipping the go column"
fi

log "building the Tokio twin ..."
if CARGO_TARGET_DIR=$PEER_TARGET cargo build --release \
  --manifest-path "$BENCHES/tokio-peer/Cargo.toml" >/tmp/goro-tokio-peer-build.log 2>&1; then
  BIN[tokio]=$TOKIO_BIN
  IMPLS+=(tokio)
else
  log "the Tokio twin did not build: skipping the tokio column (see /tmp/goro-tokio-peer-build.log)"
fi

has_crossbeam() { [[ " ${CROSSBEAM_WORKLOADS[*]} " == *" $1 "* ]]; }
if [[ -n ${BIN[tokio]:-} ]]; then
  for w in "${WORKLOADS[@]}"; do
    if has_crossbeam "$w"; then
      BIN[crossbeam]=$TOKIO_BIN
      IMPLS+=(crossbeam)
      break
    fi
  done
fi

if ((${#IMPLS[@]} == 0)); then
  log "nothing built"
  exit 1
fi

# ------------------------------------------------------------------- running

NICE=()
if [[ $(id -u) == 0 ]]; then NICE=(nice -n -20); fi

SESSION=$(mktemp /tmp/goro-bench-session.XXXXXX)
trap 'rm -f "$SESSION"' EXIT
mkdir -p "$(dirname "$RAW")"
echo "# compare.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) reps=$REPS procs=${PROCS_LIST[*]} impls=${IMPLS[*]}" >>"$RAW"

run_one() { # run_one IMPL WORKLOAD N PROCS
  local impl=$1 w=$2 n=$3 p=$4 arg=$2 out rc line
  [[ $impl == crossbeam ]] && arg=${w}_crossbeam
  out=$(GOMAXPROCS=$p "${NICE[@]}" timeout -k 5 "$TIMEOUT" "${BIN[$impl]}" "$arg" "$n" 2>/tmp/goro-bench-last-stderr.txt)
  rc=$?
  line=$(grep -m1 '^impl=' <<<"$out")
  if [[ -z $line ]]; then
    if ((rc == 124 || rc == 137)); then
      line="impl=$impl workload=$w n=$n procs=$p status=timeout(${TIMEOUT}s)"
    else
      line="impl=$impl workload=$w n=$n procs=$p status=rc=$rc"
    fi
  elif ((rc != 0)) && [[ $line != *check=FAIL* ]]; then
    line="$line status=rc=$rc"
  fi
  echo "$line" | tee -a "$RAW" >>"$SESSION"
  log "  $line"
}

for w in "${WORKLOADS[@]}"; do
  for n in ${N_OF[$w]//,/ }; do
    for p in "${PROCS_LIST[@]}"; do
      log "$w n=$n procs=$p"
      for ((rep = 1; rep <= REPS; rep++)); do
        for impl in "${IMPLS[@]}"; do
          [[ $impl == crossbeam ]] && ! has_crossbeam "$w" && continue
          [[ $impl == tokio && " ${NO_TOKIO_WORKLOADS[*]} " == *" $w "* ]] && continue
          [[ $impl == go && " ${NO_GO_WORKLOADS[*]} " == *" $w "* ]] && continue
          run_one "$impl" "$w" "$n" "$p"
        done
      done
    done
  done
done

# ------------------------------------------------------------------- report

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
lock_ver() { # lock_ver CRATE: its version in the Tokio twin's Cargo.lock
  grep -A1 "^name = \"$1\"$" "$BENCHES/tokio-peer/Cargo.lock" 2>/dev/null |
    sed -n 's/^version = "\(.*\)"/\1/p'
}
tokio_ver=$(lock_ver tokio)
goro_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
[[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && goro_rev+="+dirty"

echo "## goro vs Go vs Tokio"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}; kernel $(uname -sr)"
echo "- go: $([[ -n $GO ]] && "$GO" version || echo 'not available')"
echo "- rustc: $(rustc --version); tokio ${tokio_ver:-?}"
[[ -n ${BIN[crossbeam]:-} ]] &&
  echo "- crossbeam: crossbeam-channel $(lock_ver crossbeam-channel), bounded(1024), two std threads (procs does not apply)"
echo "- goro: $goro_rev$([[ -z ${BIN[goro]:-} ]] && echo ' (peerbench not built: no goro column)')"
echo "- runs: $REPS per impl, interleaved, fresh processes, GOMAXPROCS in {${PROCS_LIST[*]}}$([[ ${#NICE[@]} -gt 0 ]] && echo ', nice -n -20')"
echo
python3 "$BENCHES/compare.py" "$SESSION" --impls "goro,go,tokio${BIN[crossbeam]:+,crossbeam}"
