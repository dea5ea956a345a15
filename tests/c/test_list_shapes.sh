#!/usr/bin/env bash
# tritune list --model NAME --shapes: a model's BitLinear shapes, read off
# the C tensor walk (the tuner's only source of shapes).  Known shapes of
# BitNet-b1.58-2B-4T; dotted names; a path; bad input exits 2 with a clear
# message.  Quiet unless failing.  Usage: test_list_shapes.sh path/to/tritune
. "$(dirname "$0")/lib.sh"

# check_shapes <model argument> <python list of [M, K, [roles], per_layer]>
check_shapes() {
    "$T" list --model "$1" --shapes --json >"$tmp/out" 2>"$tmp/err" || { fail "list --model $1: $(cat "$tmp/err")"; return; }
    python3 - "$tmp/out" "$2" <<'PY' || fail "list --model $1 --shapes --json: wrong rows: $(cat "$tmp/out")"
import ast, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = ast.literal_eval(sys.argv[2])
assert rows[0]["kind"] == "context" and rows[0]["schema_version"] == 1, rows[0]
shapes = [r for r in rows[1:] if r["kind"] == "shape"]
assert len(shapes) == len(rows) - 1, rows
got = [[r["M"], r["K"], r["tensors"], r["per_layer"]] for r in shapes]
assert got == want, (got, want)
assert all(r["count"] == r["per_layer"] * r["layers"] for r in shapes), shapes
PY
}

B2B='[[2560, 2560, ["wq", "wo"], 2], [640, 2560, ["wk", "wv"], 2], [6912, 2560, ["wgate", "wup"], 2], [2560, 6912, ["wdown"], 1]]'
check_shapes bitnet-b1.58-2b-4t "$B2B"
check_shapes models/dummy/bitnet-b1.58-2b-4t.json "$B2B"
check_shapes "$PWD/models/dummy/bitnet-b1.58-2b-4t.json" "$B2B"
grep -q '"model":"bitnet-b1.58-2b-4t"' "$tmp/out" || fail "shape rows do not name the model"
# dotted name, MHA (q, k, v, o share one shape)
check_shapes dummy-3.8b '[[3840, 3840, ["wq", "wk", "wv", "wo"], 4], [8192, 3840, ["wgate", "wup"], 2], [3840, 8192, ["wdown"], 1]]'
# the readable table
"$T" list --model bitnet-b1.58-2b-4t --shapes >"$tmp/out" 2>"$tmp/err" || fail "text table: $(cat "$tmp/err")"
grep -qE '^640 +2560 +wk,wv +2 +60$' "$tmp/out" || fail "text table lacks the k/v row: $(cat "$tmp/out")"

# bad input: exit 2, the reason on stderr
expect 2 "cannot open model 'no-such-model'" -- list --model no-such-model --shapes
grep -qF "bitnet-b1.58-2b-4t" "$tmp/err" || fail "unknown model: the message does not list the models"
expect 2 "cannot open" -- list --model "$tmp/missing.json" --shapes
printf '{"hidden": 64, "ffn": 128, "layers": 2, "heads": 5, "vocab": 50, "activation": "silu"}' >"$tmp/bad.json"
expect 2 "heads = 5 does not divide hidden = 64" -- list --model "$tmp/bad.json" --shapes
expect 2 "--model and --shapes go together" -- list --shapes
expect 2 "--model and --shapes go together" -- list --model tiny
expect 2 "not both" -- list --model tiny --shapes --variant 'gemv_*'

finish
