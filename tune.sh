#!/usr/bin/env bash
# tritune: find the fastest ternary kernels for this CPU.
#
#   ./tune.sh --quick        BitNet-2B-4T shapes, batch 1, 1 thread and all cores (minutes)
#   ./tune.sh                every BitLinear shape of a model (default bitnet-b1.58-2b-4t),
#                            every thread count up to the core count
#   ./tune.sh --model dummy-7b --batch 1,32 --threads 1,2
#   ./tune.sh --help         all options
#
# Runs set-up first (scripts/setup.sh: Debian packages, .venv, build), then
# verifies every kernel bit-exactly, measures, selects, and writes
# results/<machine-id>/tuned.json, tuned.tsv, kernel_runs.jsonl and report/.
set -euo pipefail
cd "$(dirname "$0")"
for a in "$@"; do
  if [ "$a" = "-h" ] || [ "$a" = "--help" ]; then
    sed -n "2,12p" "$0" | sed 's/^# \{0,1\}//'
    echo
    if [ -x .venv/bin/python ]; then exec .venv/bin/python -m tuner --help; fi
    exit 0
  fi
done
./scripts/setup.sh >&2
exec .venv/bin/python -m tuner "$@"
