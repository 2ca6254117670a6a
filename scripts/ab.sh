#!/usr/bin/env bash
# Compares tokenmill binaries on one job, interleaved round by round so that the machine's
# speed swings hit them alike: for each binary, the average and best wall and CPU (user + sys)
# seconds and the minor page faults of `BIN run JOB --workers N`. The job's output directory
# is removed before each run.
#
#   scripts/ab.sh JOB.yaml WORKERS ROUNDS BIN...
#   e.g. scripts/ab.sh out/bench/pipeline-b.yaml 2 4 /tmp/tokenmill-before bin/tokenmill
#
# The bench jobs (out/bench/pipeline-{a,b}.yaml) are written by `make bench`.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
job=$1 workers=$2 rounds=$3
shift 3
out=$(awk '/^output:/{o=1} o && /^ *dir:/{print $2; exit}' "$job")
[ -n "$out" ] || { echo "ab.sh: no output.dir in $job" >&2; exit 2; }
for r in $(seq "$rounds"); do
	for b in "$@"; do
		rm -rf "$out"
		/usr/bin/time -f "$b %e %U %S %R" "$b" run "$job" --workers "$workers" --progress none 2>&1 >/dev/null | tail -1
	done
done | awk '{k=$1; n[k]++; w[k]+=$2; c=$3+$4; cs[k]+=c; f[k]+=$5
	if (!(k in mw) || $2 < mw[k]) mw[k]=$2; if (!(k in mc) || c < mc[k]) mc[k]=c}
	END {for (k in n) printf "%s: wall avg %.3f best %.3f s, cpu avg %.3f best %.3f s, page faults %d\n",
		k, w[k]/n[k], mw[k], cs[k]/n[k], mc[k], f[k]/n[k]}'
