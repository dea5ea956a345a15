#!/usr/bin/env bash
# Stability of the tuner (the closing note of issue 11): `./tune.sh --quick --fresh` three times,
# the winners and tie groups of the three runs side by side (scripts/compare_tuned.py), then the
# bandwidth probe over 5 runs of `tritune bench bandwidth` at 1 and 2 threads (median, spread).
#   ./scripts/tune_stability.sh [OUT_DIR]       (about 3 x the --quick time; run on a quiet machine)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d /tmp/tune-stability.XXXXXX)}
mkdir -p "$out"
id=$(build/bin/tritune info --json | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["machine_id"])')
for i in 1 2 3; do
  echo "=== run $i: ./tune.sh --quick --fresh" >&2
  /usr/bin/time -f "run $i: %e s wall" ./tune.sh --quick --fresh > "$out/run$i.txt" 2> "$out/run$i.err" || { tail -5 "$out/run$i.err"; exit 1; }
  tail -1 "$out/run$i.err"
  cp "results/$id/tuned.json" "$out/tuned$i.json"
  cat "$out/run$i.txt"
done
.venv/bin/python scripts/compare_tuned.py "$out"/tuned1.json "$out"/tuned2.json "$out"/tuned3.json || true
echo
echo "=== bandwidth probe, 5 runs of tritune bench bandwidth --threads 1,2"
for i in 1 2 3 4 5; do build/bin/tritune bench bandwidth --threads 1,2 --json; done |
  .venv/bin/python -c '
import json, statistics, sys
g = {}
for l in sys.stdin:
    r = json.loads(l)
    if r.get("kind") == "bandwidth":
        g.setdefault(r["threads"], []).append((r["gbps"], r.get("strategy")))
for t, v in sorted(g.items()):
    x = [a for a, _ in v]
    m = statistics.median(x)
    print(f"{t} thread(s): median {m:.1f} GB/s, spread (max-min)/median {100 * (max(x) - min(x)) / m:.1f}%, runs {[round(a, 1) for a in x]}, strategies {[s for _, s in v]}")
'
echo "outputs in $out"
