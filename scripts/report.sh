#!/usr/bin/env bash
# tritune report: the papers' tables and figures from one results folder.
#   scripts/report.sh [results/<machine-id>] [--out DIR]
# Reads the JSON lines the harness and the tuner wrote there (kernel_runs.jsonl,
# tuned.json, decode_runs.jsonl, bench_*.jsonl) and writes <folder>/report/:
# index.md with the tables and figures, the figures as PNG and SVG, the tables as
# CSV.  Default folder: this machine's (results/<machine-id>).  Runs set-up first
# if .venv (matplotlib) is missing.  Exit codes: 0 ok, 2 bad input, 3 environment.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null || [ ! -x build/bin/tritune ]; then
  ./scripts/setup.sh >&2 || exit 3
fi
# a folder given relative to the caller's directory
args=()
for a in "$@"; do
  if [ -d "$OLDPWD/$a" ] && [[ "$a" != /* ]]; then args+=("$OLDPWD/$a"); else args+=("$a"); fi
done
exec .venv/bin/python -m tuner.report "${args[@]}"
