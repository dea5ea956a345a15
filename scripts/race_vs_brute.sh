#!/usr/bin/env bash
# Efficiency on real runs (the closing note of issue 11): `race` vs `brute_force` on the
# BitNet-2B-4T shapes (i2s, batch 1) at 1 and 2 threads: the wall time of each tune, then
# `bench decode` tg with each one's tuned.tsv, side by side (they should be equal within noise).
#   ./scripts/race_vs_brute.sh          (run on a quiet machine)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null 2>&1
out=$(mktemp -d /tmp/race-vs-brute.XXXXXX)
id=$(build/bin/tritune info --json | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["machine_id"])')
for s in race brute_force; do
  t0=$SECONDS
  .venv/bin/python -m tuner --model bitnet-b1.58-2b-4t --format i2s --batch 1 --threads 1,2 --strategy $s \
    --fresh --no-decode --results "$out/$s" > "$out/$s.txt" 2> "$out/$s.err"
  echo "$s: $((SECONDS - t0)) s wall; $(grep '^measured' "$out/$s.txt")"
done
.venv/bin/python scripts/compare_tuned.py "$out/race/$id/tuned.json" "$out/brute_force/$id/tuned.json" || true
for T in 1 2; do
  for s in race brute_force; do
    build/bin/tritune bench decode --model bitnet-b1.58-2b-4t --format i2s --threads $T --prompt 0 --gen 64 \
      --reps 5 --tuning "$out/$s/$id/tuned.tsv" --json |
      .venv/bin/python -c "
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get('kind') == 'decode' and r.get('phase') == 'tg':
        print(f\"T=$T $s: tg {r['tokens_per_s']:.2f} tokens/s (p25 {r['tokens_per_s_p25']:.2f}, p75 {r['tokens_per_s_p75']:.2f}), {100 * r['bw_fraction']:.0f}% bw, {r['gemv_variant']}\")
"
  done
done
echo "outputs in $out"
