#!/usr/bin/env bash
# Compares two builds of goro's peerbench, run interleaved (A, B, A, B, ...)
# so that a loaded or noisy machine weighs on both alike, and prints a
# markdown table of median ns/op and the ratio B/A per workload and P count.
# For "did this change move anything": build A from the old revision.
#
#   bash benches/ab.sh -a BIN_A -b BIN_B [-r REPS] [-p 1,2] WORKLOAD=N...
#
# e.g. bash benches/ab.sh -a /tmp/peerbench-old -b target/release/peerbench \
#        -r 5 pingpong=1000000 skynet=1000000
set -uo pipefail

REPS=5
PROCS="1,$(nproc)"
A="" B=""
while getopts "a:b:r:p:h" opt; do
  case $opt in
    a) A=$OPTARG ;;
    b) B=$OPTARG ;;
    r) REPS=$OPTARG ;;
    p) PROCS=$OPTARG ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [[ -z $A || -z $B || $# -eq 0 ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

NICE=()
if [[ $(id -u) == 0 ]]; then NICE=(nice -n -20); fi

ns_per_op() { # ns_per_op BIN WORKLOAD N PROCS
  GOMAXPROCS=$4 "${NICE[@]}" timeout -k 5 300 "$1" "$2" "$3" 2>/dev/null |
    sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p' | head -1
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

echo "| workload | P | A ns/op | B ns/op | B/A |"
echo "|---|---|---|---|---|"
for arg in "$@"; do
  w=${arg%%=*} n=${arg#*=}
  for p in ${PROCS//,/ }; do
    a_runs=() b_runs=()
    for ((i = 1; i <= REPS; i++)); do
      a_runs+=("$(ns_per_op "$A" "$w" "$n" "$p")")
      b_runs+=("$(ns_per_op "$B" "$w" "$n" "$p")")
    done
    a=$(printf '%s\n' "${a_runs[@]}" | grep . | median)
    b=$(printf '%s\n' "${b_runs[@]}" | grep . | median)
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", b / a; else print "-" }')
    echo "| $w | $p | $a | $b | $ratio |"
    echo "$w p=$p A: ${a_runs[*]} B: ${b_runs[*]}" >&2
  done
done
