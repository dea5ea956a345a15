#!/usr/bin/env bash
# tritune bench decode at the CLI level: bad input gives a clear message and
# the documented exit code (bench/cli.h: 2 bad input, 3 environment); a tiny
# model runs in every format this build has and emits well-formed rows; the
# weight file round trip decodes the same tokens.  Quiet unless failing.
. "$(dirname "$0")/lib.sh"

Q=(--no-bw --reps 1 --prompt 5 --gen 4)
expect_cmd 2 "--model is required" -- "$T" bench decode "${Q[@]}"
expect_cmd 2 "cannot open" -- "$T" bench decode --model "$tmp/nope.json" "${Q[@]}"
printf '{"hidden": 64, "ffn": 128, "layers": 2, "heads": 5, "vocab": 50, "activation": "silu"}' >"$tmp/bad.json"
expect_cmd 2 "heads = 5 does not divide hidden = 64" -- "$T" bench decode --model "$tmp/bad.json" "${Q[@]}"
printf '{"hidden": 64, "ffn": 128, "layers": 0, "heads": 4, "vocab": 50, "activation": "silu"}' >"$tmp/bad.json"
expect_cmd 2 "layers = 0" -- "$T" bench decode --model "$tmp/bad.json" "${Q[@]}"
printf '{"hidden": 64,, }' >"$tmp/bad.json"
expect_cmd 2 "bad.json:1:15" -- "$T" bench decode --model "$tmp/bad.json" "${Q[@]}"
expect_cmd 2 "unknown --format 'q4'" -- "$T" bench decode --model models/dummy/tiny.json --format q4 "${Q[@]}"
expect_cmd 2 "--prompt wants" -- "$T" bench decode --model models/dummy/tiny.json --prompt -3 --no-bw
expect_cmd 2 "unknown option" -- "$T" bench decode --model models/dummy/tiny.json --frobnicate
expect_cmd 2 "exceed tiny's max_seq 64" -- "$T" bench decode --model models/dummy/tiny.json --prompt 60 --gen 10 --no-bw
expect_cmd 2 "no variant named" -- "$T" bench decode --model models/dummy/tiny.json --variant gemv_nonexistent "${Q[@]}"
# fp32 of a 100B model fits no machine we run on: refused before allocating
expect_cmd 3 "MemAvailable" -- "$T" bench decode --model models/dummy/dummy-100b.json --format fp32 "${Q[@]}"
grep -qF "needs" "$tmp/err" || fail "memory refusal does not say what the model needs"

# a tiny model in every format: rows kind decode, phases pp and tg
for f in i2s tl1 tl2 fp16 fp32; do
    "$T" bench decode --model models/dummy/tiny.json --format "$f" "${Q[@]}" --json >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ]; then
        [ "$(grep -c '"kind":"decode"' "$tmp/out")" -eq 2 ] || fail "$f: expected 2 decode rows"
        grep -q '"phase":"pp"' "$tmp/out" || fail "$f: no pp row"
        grep -q '"phase":"tg"' "$tmp/out" || fail "$f: no tg row"
        grep -q '"tokens_per_s":[0-9]' "$tmp/out" || fail "$f: no tokens_per_s"
        grep -q '"kind":"context"' "$tmp/out" || fail "$f: no context record"
    elif [ $rc -eq 3 ] && grep -q "unsupported" "$tmp/err" && grep -q "$f" "$tmp/err"; then
        :   # format not in this build: said so clearly
    else
        fail "$f: exit $rc: $(head -c 300 "$tmp/err")"
    fi
done

# weight file: save, then load; the greedy ids must match a generated run
ids() { grep '"phase":"tg"' "$1" | sed 's/.*"first_ids":\(\[[^]]*\]\).*/\1/'; }
"$T" bench decode --model tiny "${Q[@]}" --seed 5 --json >"$tmp/gen.json" 2>"$tmp/err" || fail "generated run: $(cat "$tmp/err")"
"$T" bench decode --model tiny "${Q[@]}" --seed 5 --json --save-weights "$tmp/w.ttw" >"$tmp/save.json" 2>"$tmp/err" ||
    fail "save run: $(cat "$tmp/err")"
"$T" bench decode --weights "$tmp/w.ttw" "${Q[@]}" --json >"$tmp/load.json" 2>"$tmp/err" || fail "load run: $(cat "$tmp/err")"
[ -n "$(ids "$tmp/gen.json")" ] || fail "no first_ids in the tg row"
[ "$(ids "$tmp/gen.json")" = "$(ids "$tmp/save.json")" ] || fail "ids differ: generated vs saved"
[ "$(ids "$tmp/gen.json")" = "$(ids "$tmp/load.json")" ] || fail "ids differ: generated vs loaded"
head -c 4000 "$tmp/w.ttw" >"$tmp/trunc.ttw"
expect_cmd 2 "truncated" -- "$T" bench decode --weights "$tmp/trunc.ttw" "${Q[@]}"

finish
