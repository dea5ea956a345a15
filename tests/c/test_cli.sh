#!/usr/bin/env bash
# CLI bad-input paths: each must give a clear message and the documented
# non-zero exit code, never a crash.  Usage: test_cli.sh path/to/tritune
set -u
T=${1:?usage: test_cli.sh path/to/tritune}
fails=0; passes=0
# expect <exit-code> <stderr-substring> -- args...
expect() {
  local want=$1 msg=$2; shift 3
  local out rc
  out=$("$T" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" <<<"$out"; then
    echo "FAIL: tritune $* -> exit $rc (want $want), stderr: $out (want: $msg)"; fails=$((fails+1))
  else passes=$((passes+1)); fi
}
expect 2 "unknown command"            -- frobnicate
expect 2 "usage: tritune"             -- 
expect 2 "unknown option '--bogus'"   -- list --bogus
expect 2 "no variant matches"         -- verify --variant 'nothing_*'
expect 2 "no variant matches"         -- bench kernel --variant does_not_exist
expect 2 "--shape wants MxK"          -- bench kernel --shape 6912by2560
expect 2 "--shape wants MxK"          -- bench kernel --shape 0x2560
expect 2 "--threads wants"            -- bench kernel --threads two
expect 2 "--threads wants"            -- bench kernel --threads 0
expect 2 "--cache must be"            -- bench kernel --cache lukewarm
expect 2 "unknown format"             -- bench kernel --format q4
expect 2 "needs a value"              -- bench kernel --shape
expect 2 "--op must be"               -- bench kernel --op gemx
expect 2 "--min-time wants"           -- bench kernel --min-time -1
expect 2 "expected 'kernel'"          -- bench
expect 2 "unknown benchmark"          -- bench everything
# a GEMV variant asked to take a batch: the message names the restriction
V=$("$T" list --variant 'gemv_i2s_i8_c_r1u1*' | awk 'NR==2{print $1}')
expect 2 "takes at most N = 1"        -- bench kernel --variant "$V" --batch 4 --shape 64x256
# a variant whose CPU features are masked off: reported, never run
V512=$("$T" list --variant 'gemv_i2s_i8_avx512vnni_*' | awk 'NR==2{print $1}')
if [ -n "$V512" ]; then
  out=$(TRITUNE_CPU_MASK=1 "$T" bench kernel --variant "$V512" --shape 64x256 --min-time 0.01 2>&1); rc=$?
  if [ $rc != 3 ] || ! grep -q "lacks" <<<"$out"; then echo "FAIL: masked CPU: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
  out=$(TRITUNE_CPU_MASK=1 "$T" verify --variant "$V512" 2>&1); rc=$?
  if [ $rc != 0 ] || ! grep -q "skipped" <<<"$out"; then echo "FAIL: masked verify: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
fi
# with every SIMD feature masked off only portable C runs; nothing fails
out=$(TRITUNE_CPU_MASK=0 "$T" verify --quiet 2>&1); rc=$?
if [ $rc != 0 ] || ! grep -qE "^[1-9][0-9]* passed, 0 failed, [1-9][0-9]* skipped" <<<"$out"; then
  echo "FAIL: verify with no SIMD: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
# AMX masked off (every feature but amxint8): AMX rows are skipped, the rest verify,
# and a prefill GEMM falls back to another kernel of the same layout
AMXBIT=$((1 << 10))
MASK=$(printf '%x' $(( 0x7ff & ~AMXBIT )))
out=$(TRITUNE_CPU_MASK=$MASK "$T" verify --variant 'gemm_i2s_*' 2>&1); rc=$?
if [ $rc != 0 ] || { grep -q "amx" <<<"$("$T" list --variant '*_amx_*')" && ! grep -qE "[1-9][0-9]* skipped" <<<"$out"; }; then
  echo "FAIL: verify without AMX: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
out=$(TRITUNE_CPU_MASK=$MASK "$T" bench decode --model tiny --prompt 20 --gen 2 --reps 1 --no-bw --no-tuning --json 2>&1); rc=$?
if [ $rc != 0 ] || grep -q '"gemm_variant":"gemm_i2s_i8_amx' <<<"$out" || ! grep -q '"phase":"pp"' <<<"$out"; then
  echo "FAIL: decode without AMX: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
# the compute roofline: bad ISA names are usage errors; no measurable ISA is an environment error with the reason
expect 2 "--isa wants"                -- bench compute --isa sse9
expect 2 "--isa wants"                -- bench compute --isa avx2,,vnni
expect 2 "--isa wants"                -- bench compute --isa avx2,
expect 2 "--isa needs a non-empty"    -- bench compute --isa ""
out=$(TRITUNE_CPU_MASK=0 "$T" bench compute --min-time 0.01 --json 2>&1); rc=$?
if [ $rc != 3 ] || ! grep -q "lacks its features" <<<"$out"; then
  echo "FAIL: compute with no SIMD: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
# lists with an empty item, thread counts above the CPUs this process may use (issue 10)
expect 2 "--shape wants MxK"          -- bench kernel --shape 8x8,
expect 2 "--threads wants"            -- bench kernel --threads 1,,2
expect 2 "--bytes wants"              -- bench bandwidth --bytes ,64
if command -v taskset >/dev/null; then
  out=$(taskset -c 0 "$T" bench bandwidth --threads 2 --bytes 1 --min-time 0.01 2>&1 >/dev/null); rc=$?
  if [ $rc != 2 ] || ! grep -q "may run on 1 CPU (sched_getaffinity).*--oversubscribe" <<<"$out"; then
    echo "FAIL: --threads 2 on 1 CPU: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
  out=$(taskset -c 0 "$T" bench bandwidth --threads 2 --oversubscribe --bytes 1 --min-time 0.01 2>&1 >/dev/null); rc=$?
  if [ $rc != 0 ]; then echo "FAIL: --oversubscribe: exit $rc: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
fi
# a measured row names its median and quartiles (samples, gbps, gbps_p25, gbps_p75, cv, stable)
out=$("$T" bench bandwidth --threads 1 --bytes 1 --min-time 0.01 --json 2>&1 | tail -1)
if ! grep -q '"samples":[0-9]*,"gbps":[0-9.e+-]*,"gbps_p25":[0-9.e+-]*,"gbps_p75":[0-9.e+-]*,"cv":[0-9.e+-]*,"stable":' <<<"$out"; then
  echo "FAIL: bandwidth row fields: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
# ... and every read loop's median, the best of which is gbps
if ! python3 - "$out" <<'PYEOF'
import json, sys
r = json.loads(sys.argv[1])
each = [r["gbps_" + k] for k in ("plain", "prefetch", "streams", "streams_pf")]
assert all(v > 0 for v in each) and max(each) == r["gbps"], r
PYEOF
then echo "FAIL: bandwidth per-strategy medians: $out"; fails=$((fails+1)); else passes=$((passes+1)); fi
expect 2 "may run on"                 -- bench compute --threads 1024
expect 2 "may run on"                 -- bench decode --model tiny --threads 1024
# memory that cannot be had: refused before allocating (exit 3)
expect 3 "nothing was allocated"      -- bench bandwidth --bytes 1048576
expect 3 "nothing was allocated"      -- bench kernel --shape 16777216x16777216
# files that are not regular files are refused at once; missing files are usage errors (exit 2)
tmpd=$(mktemp -d); mkfifo "$tmpd/fifo"
expect 2 "is a FIFO, not a regular file"       -- bench decode --weights "$tmpd/fifo" --no-bw
expect 2 "is a FIFO, not a regular file"       -- bench decode --model "$tmpd/fifo" --no-bw
expect 2 "is a FIFO, not a regular file"       -- bench decode --model tiny --prompt 4 --gen 2 --tuning "$tmpd/fifo" --no-bw
expect 2 "is a directory, not a regular file"  -- bench decode --weights "$tmpd" --no-bw
expect 2 "is a character device"               -- bench decode --model tiny --prompt 4 --gen 2 --tuning /dev/zero --no-bw
expect 2 "cannot open weight file"             -- bench decode --weights "$tmpd/none.ttw" --no-bw
expect 2 "cannot open tuning file"             -- bench decode --model tiny --prompt 4 --gen 2 --tuning "$tmpd/none.tsv" --no-bw
expect 2 "cannot open configuration file"      -- bench decode --model "$tmpd/none.json" --no-bw
expect 2 "cannot open model 'no-such-model'"   -- bench decode --model no-such-model --no-bw
# a file that exists but cannot be read is the environment (exit 3); root reads anything
if [ "$(id -u)" != 0 ]; then
  printf '# generator x\n' > "$tmpd/locked.tsv"; chmod 000 "$tmpd/locked.tsv"
  expect 3 "Permission denied"                 -- bench decode --model tiny --prompt 4 --gen 2 --tuning "$tmpd/locked.tsv" --no-bw
fi
rm -rf "$tmpd"
# help works and exits 0
for c in "info" "list" "verify" "bench kernel" "bench bandwidth" "bench compute"; do
  if ! $T $c --help >/dev/null 2>&1; then echo "FAIL: $c --help"; fails=$((fails+1)); else passes=$((passes+1)); fi
done
# JSON output: a context record first, then rows that parse
out=$("$T" list --json | head -3)
python3 - "$out" <<'PY' || fails=$((fails+1))
import json, sys
lines = sys.argv[1].splitlines()
rows = [json.loads(l) for l in lines]
assert rows[0]["kind"] == "context" and rows[0]["schema_version"] == 1, rows[0]
assert rows[1]["kind"] == "variant", rows[1]
PY
echo "test_cli: $passes passed, $fails failed"
[ $fails = 0 ]
