#!/usr/bin/env bash
# The first generated token ids of dummy-700m for every format and thread
# count: a behaviour check across builds (a refactor must print the same).
#   scripts/decode_ids.sh [path/to/tritune] > ids.txt;  diff ids-before.txt ids.txt
# Prompt 24 tokens, 32 generated, untuned (the generator's prior picks kernels).
set -euo pipefail
T=${1:-build/bin/tritune}
PY=${PYTHON:-python3}
for f in i2s tl1 tl2 fp16 fp32; do
  for t in 1 2; do
    "$T" bench decode --model dummy-700m --format "$f" --threads "$t" --prompt 24 --gen 32 --reps 1 \
        --no-tuning --no-bw --json 2>/dev/null |
      "$PY" -c "
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r.get('kind') == 'decode' and r.get('phase') == 'tg':
        print('$f', 't$t', r.get('status'), r.get('gemv_variant'), r.get('first_ids'))"
  done
done
