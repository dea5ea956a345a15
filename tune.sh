#!/usr/bin/env bash
# tritune: find the fastest ternary kernels for this CPU.
#
#   ./tune.sh --quick        BitNet-2B-4T shapes, i2s, batch 1, 1 thread and all cores (minutes)
#   ./tune.sh                every BitLinear shape of a model (default bitnet-b1.58-2b-4t), i2s and
#                            tl2, batch 1 and the prefill batch, every thread count; then bench
#                            decode untuned vs tuned
#   ./tune.sh --model dummy-7b --format i2s --threads 1,2
#   ./tune.sh --help         all options
#
# Runs set-up first (scripts/setup.sh: Debian packages, .venv, build), then
# verifies every kernel bit-exactly, races the candidates of every key
# (resumable: measurements go to results/<machine-id>/cache.jsonl as they are
# taken), re-measures the finalists side by side, and writes
# results/<machine-id>/tuned.json, tuned.tsv, kernel_runs.jsonl and report/.
set -euo pipefail
cd "$(dirname "$0")"
for a in "$@"; do
  if [ "$a" = "-h" ] || [ "$a" = "--help" ]; then
    sed -n "2,15p" "$0" | sed 's/^# \{0,1\}//'
    echo
    if [ -x .venv/bin/python ]; then exec .venv/bin/python -m tuner --help; fi
    exit 0
  fi
done
./scripts/setup.sh >&2
exec .venv/bin/python -m tuner "$@"
