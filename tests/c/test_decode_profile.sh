#!/usr/bin/env bash
# bench decode --profile: for pp and tg, a row of kind "profile" for every
# part, their shares of the token time the bench measured sum to about 1
# (the parts are timed inside the forward call, the bench times the whole
# step: the sum is at most 1 and close to it), and the matrices' parts
# report the bytes they read.  Untuned shapes are named with the command
# that tunes them.  Quiet unless failing.
. "$(dirname "$0")/lib.sh"
for f in i2s tl2; do
    for th in 1 2; do
        if ! "$T" bench decode --model models/dummy/tiny.json --format $f --threads $th --no-bw --reps 3 --prompt 8 \
            --gen 24 --profile --json >"$tmp/out" 2>"$tmp/err"; then
            echo "FAIL: $f $th threads: $(head -c 300 "$tmp/err")" >&2
            fails=$((fails + 1))
            continue
        fi
        "$PY" - "$tmp/out" "$f/$th" <<'PYEOF' || fails=$((fails + 1))
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
prof = [r for r in rows if r.get("kind") == "profile"]
parts = ["attn_qkv", "attn_o", "ffn_gate_up", "ffn_down", "attention", "norms_rope", "act_quant", "tables",
         "lm_head", "wait", "other"]
bad = []
for phase in ("pp", "tg"):
    got = {r["part"]: r for r in prof if r["phase"] == phase}
    missing = [p for p in parts + ["total"] if p not in got]
    if missing:
        bad.append(f"{phase}: parts missing: {missing}")
        continue
    share = sum(got[p]["share"] for p in parts)
    if not 0.75 <= share <= 1.0001:
        bad.append(f"{phase}: shares sum to {share:.4f}, expected about 1 (at most 1)")
    if abs(got["total"]["share"] - share) > 1e-4:
        bad.append(f"{phase}: total share {got['total']['share']} != sum {share}")
    for p in ("attn_qkv", "attn_o", "ffn_gate_up", "ffn_down", "lm_head"):
        if not got[p]["bytes_per_token"] > 0 or got[p]["s_per_token"] < 0:
            bad.append(f"{phase}: {p} reads no bytes or has negative time")
    if any(got[p]["s_per_token"] < 0 for p in parts):
        bad.append(f"{phase}: a negative time")
for b in bad:
    print(f"FAIL: {sys.argv[2]}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
    done
done

# untuned shapes: named with the command that tunes them; none once tuned.tsv has them all
"$T" bench decode --model tiny --no-tuning --no-bw --reps 1 --prompt 2 --gen 2 --json >"$tmp/u.json" 2>"$tmp/err"
grep '"phase":"tg"' "$tmp/u.json" | grep -q '"untuned_shapes":\["96x96","32x96","200x96","96x200"\],"tune_command":"./tune.sh --model tiny --format i2s --threads 1"' ||
    { echo "FAIL: untuned shapes not named: $(grep '"phase":"tg"' "$tmp/u.json" | head -c 600)" >&2; fails=$((fails + 1)); }
"$T" bench decode --model tiny --no-tuning --no-bw --reps 1 --prompt 2 --gen 2 >"$tmp/u.txt" 2>&1
grep -q "untuned: 4 of 4 BitLinear shapes of tiny.*./tune.sh --model tiny" "$tmp/u.txt" ||
    { echo "FAIL: no untuned note in the table output" >&2; fails=$((fails + 1)); }
gh=$(sed -n 's/.*"generator_hash":"\([0-9a-f]*\)".*/\1/p' "$tmp/u.json" | head -1)
{
    echo "# tritune tuned configuration: op fmt M K N threads variant"
    echo "# machine test generator $gh cache streaming"
    for s in "96 96" "32 96" "200 96" "96 200"; do echo "gemv i2s $s 1 1 gemv_i2s_i8_c_r1u1a1p0"; done
} >"$tmp/tuned.tsv"
"$T" bench decode --model tiny --tuning "$tmp/tuned.tsv" --no-bw --reps 1 --prompt 2 --gen 2 --json >"$tmp/t.json" 2>"$tmp/err"
grep '"phase":"tg"' "$tmp/t.json" | grep -q '"untuned_shapes":\[\],"tune_command":null' ||
    { echo "FAIL: tuned shapes reported untuned: $(cat "$tmp/err" | head -c 300)" >&2; fails=$((fails + 1)); }
finish
