#!/usr/bin/env bash
# bench decode --lm-head fp16|i8|q4: the quantized heads read fewer bytes per
# token than fp16 (4-bit fewer than int8), and their tg rows carry the
# accuracy against fp16 on the same run (top-1 agreement in [0, 1], KL >= 0,
# largest difference below the logit range) over --accuracy-tokens steps;
# a bad value is bad usage (exit 2).  Quiet unless failing.
. "$(dirname "$0")/lib.sh"
for h in fp16 i8 q4; do
    for m in tiny tiny-silu; do
        "$T" bench decode --model $m --lm-head $h --no-bw --reps 1 --prompt 4 --gen 4 --accuracy-tokens 24 --json \
            >>"$tmp/out" 2>"$tmp/err" || { echo "FAIL: $m --lm-head $h: $(head -c 300 "$tmp/err")" >&2; fails=$((fails + 1)); }
    done
done
"$PY" - "$tmp/out" <<'PYEOF' || fails=$((fails + 1))
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
tg = [r for r in rows if r.get("kind") == "decode" and r.get("phase") == "tg"]
bad = []
for model in ("tiny", "tiny-silu"):
    by = {r["lm_head"]: r for r in tg if r["model"] == model}
    if sorted(by) != ["fp16", "i8", "q4"]:
        bad.append(f"{model}: tg rows for heads {sorted(by)}")
        continue
    if by["fp16"].get("head_top1") is not None or by["fp16"].get("head_reference") is not None:
        bad.append(f"{model}: the fp16 head reports an accuracy against itself")
    if not by["q4"]["bytes_per_token"] < by["i8"]["bytes_per_token"] < by["fp16"]["bytes_per_token"]:
        bad.append(f"{model}: bytes per token not q4 < i8 < fp16")
    for h in ("i8", "q4"):
        r = by[h]
        if r.get("head_tokens") != 24 or r.get("head_reference") != "fp16":
            bad.append(f"{model} {h}: head_tokens {r.get('head_tokens')} reference {r.get('head_reference')}")
        elif not (0 <= r["head_top1"] <= 1 and r["head_kl"] >= 0 and 0 <= r["head_max_rel_diff"] < 1):
            bad.append(f"{model} {h}: accuracy out of range: {r['head_top1']} {r['head_kl']} {r['head_max_rel_diff']}")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
"$T" bench decode --model tiny --lm-head q3 --no-bw >/dev/null 2>"$tmp/err"
rc=$?
{ [ $rc -eq 2 ] && grep -q "fp16, i8 or q4" "$tmp/err"; } || { echo "FAIL: --lm-head q3: exit $rc" >&2; fails=$((fails + 1)); }
finish
