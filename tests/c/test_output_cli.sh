#!/usr/bin/env bash
# --output md|csv|json|jsonl (llama-bench's -o) on bench decode and bench
# kernel: markdown is a pipe table with llama-bench's test names (pp16,
# tg8); CSV carries the same rows and fields as the JSON lines; jsonl is the
# JSON lines; a bad --output or one that contradicts --json is exit 2.
# Quiet unless failing.
. "$(dirname "$0")/lib.sh"

D=(bench decode --model models/dummy/tiny.json --no-bw --reps 2 --prompt 16 --gen 8)
"$T" "${D[@]}" --output md >"$tmp/md" 2>/dev/null || fail "--output md exited $?"
grep -q '^| model | format | threads | test | tokens/s ' "$tmp/md" || fail "md header: $(grep '^|' "$tmp/md" | head -1)"
grep -q '^| tiny | i2s | 1 | pp16 | ' "$tmp/md" && grep -q '^| tiny | i2s | 1 | tg8 | ' "$tmp/md" || fail "md rows: $(cat "$tmp/md")"
"$T" "${D[@]}" --output csv >"$tmp/csv" 2>/dev/null || fail "--output csv exited $?"
"$T" "${D[@]}" --output jsonl >"$tmp/jsonl" 2>/dev/null || fail "--output jsonl exited $?"
python3 - "$tmp/csv" "$tmp/jsonl" <<'PYEOF' || fail "csv vs json (above)"
import csv, json, sys
sections = open(sys.argv[1]).read().split("\n\n")
rows = [r for sec in sections[1:] for r in csv.DictReader(sec.strip().splitlines())]
ctx = list(csv.DictReader(sections[0].strip().splitlines()))
js = [json.loads(l) for l in open(sys.argv[2])]
assert ctx[0]["kind"] == "context" and js[0]["kind"] == "context"
dec = [r for r in js if r["kind"] == "decode"]
assert [r["test"] for r in rows] == [r["test"] for r in dec] == ["pp16", "tg8"], rows
for c, j in zip(rows, dec):
    assert list(c) == list(j), (list(c), list(j))
    for k, v in j.items():
        if v is None: assert c[k] == "", (k, c[k])
        elif isinstance(v, bool): assert c[k] in ("true", "false"), k
        elif isinstance(v, str): assert c[k] == v, (k, c[k], v)
        elif isinstance(v, (int, float)): float(c[k])  # timings differ between the two runs; a number all the same
PYEOF
"$T" bench kernel --shape 256x256 --min-time 0.01 --cache warm --variant 'gemv_i2s_i8_c_*' --output md >"$tmp/kmd" 2>/dev/null ||
    fail "bench kernel --output md exited $?"
grep -q '^| variant | shape |' "$tmp/kmd" || fail "bench kernel md header: $(head -c 300 "$tmp/kmd")"
"$T" "${D[@]}" --output xml >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "md, csv, json or jsonl" "$tmp/err" || fail "--output xml: exit $rc, $(cat "$tmp/err")"
"$T" "${D[@]}" --json --output md >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "--json --output md: exit $rc"
finish
