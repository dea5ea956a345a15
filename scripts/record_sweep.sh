#!/usr/bin/env bash
# Record the exhaustive sweep that scripts/tuner_quality.py replays: every
# runnable i2s and tl2 GEMV on the BitNet-2B-4T shapes at 1 and 2 threads,
# streaming, 3 interleaved passes, raw per-sample times kept.
#   ./scripts/record_sweep.sh [NOTE]      (about 5 minutes; run it on a quiet machine)
# NOTE (default "quiet machine") is written into the fixture's metadata line.
# Writes scripts/fixtures/sweep_2b4t.jsonl.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
note=${1:-quiet machine}
out=scripts/fixtures/sweep_2b4t.jsonl.gz
shapes=2560x2560,640x2560,6912x2560,2560x6912
tmp=$(mktemp "${out}.XXXXXX.tmp")
trap 'rm -f "$tmp"' EXIT
{
  printf '{"kind":"fixture_meta","what":"exhaustive sweep for scripts/tuner_quality.py","note":"%s","recorded":"%s","command":"scripts/record_sweep.sh"}\n' \
    "$note" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for fmt in i2s tl2; do
    build/bin/tritune bench kernel --format "$fmt" --shape "$shapes" --batch 1 --threads 1,2 --cache streaming \
      --passes 3 --samples --min-time 0.03 --json
  done
} | gzip -9 > "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out ($(du -h "$out" | cut -f1))"
