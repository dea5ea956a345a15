#!/usr/bin/env bash
# Reproduce the kernel figures quoted in the issues' closing notes: every
# runnable variant of each format, warm and streaming, 1 and all threads,
# with the bandwidth probe of the same run.  Takes several minutes; run it on
# a quiet machine (no build, test run or other benchmark sharing the cores).
#   scripts/bench_kernels.sh [shapes] [formats]     e.g. 6912x2560,8192x45568 i2s,tl2
# Writes results/<machine-id>/bench_kernels_<date>.jsonl and prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES=${1:-6912x2560,8192x45568}
FORMATS=${2:-i2s,tl1,tl2}
T=build/bin/tritune
[ -x $T ] || ./scripts/setup.sh
ID=$($T info --json | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][1]["machine_id"])')
OUT=results/$ID/bench_kernels_$(date -u +%Y%m%dT%H%M%SZ).jsonl
mkdir -p results/$ID
THREADS=1,$(nproc)
echo "bench_kernels: shapes $SHAPES formats $FORMATS threads $THREADS -> $OUT" >&2
$T bench bandwidth --threads $THREADS --bytes 1024 --json > $OUT.tmp
for f in ${FORMATS//,/ }; do
  $T bench kernel --format $f --shape $SHAPES --threads $THREADS --cache warm,streaming --min-time ${MIN_TIME:-0.2} --json --progress >> $OUT.tmp
done
mv $OUT.tmp $OUT
.venv/bin/python scripts/summarize_kernels.py $OUT
