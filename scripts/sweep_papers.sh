#!/usr/bin/env bash
# The bitnet.cpp papers' full decode sweep on this machine, then its report.
#   scripts/sweep_papers.sh [--models a,b] [--formats i2s,tl1,tl2,fp16,fp32] [--threads 1,2] [--no-report]
# Defaults: every model in models/dummy (dummy-125m .. dummy-100b and the real-model shapes;
# not the tiny test configs), every format, 1..<cores> threads.  A model a format does not fit
# in memory is a row with status no_memory (bench decode checks before allocating): the sweep
# goes on.  Env: PROMPT (64), GEN (32), REPS (3).  Decode uses results/<machine-id>/tuned.tsv
# when it exists: run ./tune.sh --model M first for tuned kernels.  Energy is measured where
# the powercap tree or the perf power PMU is readable (TRITUNE_POWERCAP_ROOT to point elsewhere).
# Writes results/<machine-id>/decode_runs.jsonl (renamed into place at the end; stderr of the
# runs in decode_runs.log), then results/<machine-id>/report/ (scripts/report.sh).
# Long (hours with the 100B model): run it on a quiet machine.
set -uo pipefail
cd "$(dirname "$0")/.."
MODELS="" FORMATS=i2s,tl1,tl2,fp16,fp32 THREADS="" REPORT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --formats) FORMATS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-report) REPORT=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep_papers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
T=build/bin/tritune
[ -x $T ] || ./scripts/setup.sh >&2 || exit 3
INFO=$($T info --json) || exit 3
ID=$(echo "$INFO" | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["machine_id"])')
CORES=$(echo "$INFO" | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["cores"])')
[ -n "$THREADS" ] || THREADS=$(seq -s, 1 "$CORES")
if [ -z "$MODELS" ]; then  # every config but the tiny test ones (the report orders them by size)
  MODELS=$(ls models/dummy/*.json | grep -v '/tiny' | xargs -n1 basename | sed 's/\.json$//' | sort -V | paste -sd,)
fi
OUT=results/$ID
mkdir -p "$OUT" || exit 3
PART=$OUT/.decode_runs.jsonl.partial
: > "$PART"
: > "$OUT/decode_runs.log"
n=0; total=$(( $(echo "$MODELS" | tr ',' '\n' | wc -l) * $(echo "$FORMATS" | tr ',' '\n' | wc -l) ))
t0=$SECONDS
for m in ${MODELS//,/ }; do
  for f in ${FORMATS//,/ }; do
    n=$((n + 1))
    echo "sweep_papers: [$n/$total] $m $f, threads $THREADS ($((SECONDS - t0)) s so far)" >&2
    $T bench decode --model "$m" --format "$f" --threads "$THREADS" --prompt "${PROMPT:-64}" --gen "${GEN:-32}" \
       --reps "${REPS:-3}" --json >> "$PART" 2>> "$OUT/decode_runs.log"
    rc=$?
    [ $rc -eq 0 ] || echo "sweep_papers:   exit $rc (see $OUT/decode_runs.log; the rows say why)" >&2
  done
done
mv "$PART" "$OUT/decode_runs.jsonl" || exit 3
echo "sweep_papers: wrote $OUT/decode_runs.jsonl in $((SECONDS - t0)) s" >&2
if [ $REPORT = 1 ]; then ./scripts/report.sh "$OUT"; fi
