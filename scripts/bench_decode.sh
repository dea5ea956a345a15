#!/usr/bin/env bash
# Reproduce the decode table of the closing notes (the bitnet.cpp papers' table):
# tg (and pp) tokens/s per model, format and thread count, ternary vs fp16/fp32,
# with the decode roofline.  Long: run it on a quiet machine.
#   scripts/bench_decode.sh [models] [formats] [threads]
#   defaults: dummy-700m,bitnet-b1.58-2b-4t,dummy-3.8b,dummy-7b,dummy-13b  i2s,tl1,tl2,fp16,fp32  1,<cores>
# Env: PROMPT (32), GEN (16), REPS (3).  A format that does not fit in memory is a row
# with status no_memory (the message says what would fit), not an abort.
# Writes results/<machine-id>/bench_decode_<date>.jsonl and prints the table.
set -uo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:-dummy-700m,bitnet-b1.58-2b-4t,dummy-3.8b,dummy-7b,dummy-13b}
FORMATS=${2:-i2s,tl1,tl2,fp16,fp32}
THREADS=${3:-1,$(nproc)}
T=build/bin/tritune
[ -x $T ] || ./scripts/setup.sh
ID=$($T info --json | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][1]["machine_id"])')
mkdir -p results/$ID
OUT=results/$ID/bench_decode_$(date -u +%Y%m%dT%H%M%SZ).jsonl
for m in ${MODELS//,/ }; do
  for f in ${FORMATS//,/ }; do
    echo "bench_decode: $m $f threads $THREADS" >&2
    $T bench decode --model $m --format $f --threads $THREADS --prompt ${PROMPT:-32} --gen ${GEN:-16} \
       --reps ${REPS:-3} --json >> $OUT.tmp 2>> $OUT.log || true
  done
done
mv $OUT.tmp $OUT
.venv/bin/python scripts/summarize_decode.py $OUT
echo
.venv/bin/python scripts/summarize_decode.py $OUT --phase pp
