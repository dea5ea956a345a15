#!/usr/bin/env bash
# Resume after SIGKILL (the closing note of issue 11): `./tune.sh --model dummy-7b` killed with
# kill -9 at three points (after K1, K2, K3 cached requests), each time rerun; the last rerun runs to
# the end.  Prints, per rerun, what it measured and what the cache answered, and its wall time;
# then shows the message for a cache whose header does not match (another --stream-mib).
#   ./scripts/tune_resume.sh [K1 K2 K3]        (default 10 60 120; a full dummy-7b tune: run quiet)
# TRITUNE=path runs another harness binary (the tests' fake one, to try the script quickly).
set -euo pipefail
cd "$(dirname "$0")/.."
points=("${@:-10 60 120}")
read -r -a points <<< "${points[*]}"
res=$(mktemp -d /tmp/tune-resume.XXXXXX)
tritune=${TRITUNE:-build/bin/tritune}
id=$("$tritune" info --json | .venv/bin/python -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["machine_id"])')
cache="$res/$id/cache.jsonl"
args=(--model dummy-7b --no-decode --results "$res" --tritune "$tritune")
./scripts/setup.sh >/dev/null 2>&1
requests() { [ -f "$cache" ] && echo $(( $(wc -l < "$cache") - 1 )) || echo 0; }
first=--fresh
for k in "${points[@]}"; do
  t0=$SECONDS
  ./tune.sh "${args[@]}" $first > "$res/out.txt" 2> "$res/err.txt" &
  pid=$!
  first=
  while kill -0 $pid 2>/dev/null && [ "$(requests)" -lt "$k" ]; do sleep 0.2; done
  kids=$(pgrep -P $pid || true)
  kill -9 $pid $kids 2>/dev/null || true
  wait $pid 2>/dev/null || true
  printf 'killed -9 at %s cached requests after %s s; the cache holds %s requests; temporary files: %s\n' \
    "$k" "$((SECONDS - t0))" "$(requests)" "$(ls -a "$res/$id" | grep -c '\.tmp$' || true)"
done
t0=$SECONDS
./tune.sh "${args[@]}" > "$res/out.txt" 2> "$res/err.txt"
printf 'the final rerun took %s s: ' "$((SECONDS - t0))"
grep "^measured" "$res/out.txt"
echo "temporary files left: $(ls -a "$res/$id" | grep -c '\.tmp$' || true)"
echo "--- a cache whose header does not match (--stream-mib 512):"
./tune.sh "${args[@]}" --stream-mib 512 2>&1 | grep error || true
echo "outputs in $res"
