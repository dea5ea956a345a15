#!/usr/bin/env bash
# Decode against the memory roofline: the figures of issue 8's closing note,
# as one table.  Run it on a quiet machine (it warns when the machine is
# busy); it takes about half an hour, most of it generating weights.
#
#   scripts/decode_roofline.sh [--tritune PATH] [--reps R] [--gen G] [--out FILE.jsonl] [--tune] [--skip-100b]
#
#   --tune       first tune every shape the table needs (./tune.sh --model M --format F --threads 1,2);
#                without it, untuned shapes are named by bench decode (a note and untuned_shapes)
#   --tritune    the binary (default build/bin/tritune); the profile section needs one with --profile
#
# Sections (JSON lines of every run go to --out, default results/decode_roofline.jsonl):
#   1. the per-token profile of dummy-3.8b, I2_S, tg, 1 thread (bench decode --profile);
#   2. tg as a fraction of the read roofline (bw_fraction: bytes per token x tokens/s over the
#      probed read bandwidth at the same thread count) for bitnet-b1.58-2b-4t, dummy-3.8b,
#      dummy-7b, dummy-13b in I2_S and TL2 at 1 and 2 threads;
#   3. dummy-100b, TL2, 2 threads: tokens/s, fraction of the roofline, the weights' load time;
#   4. bitnet-b1.58-2b-4t with fp16, int8 and 4-bit LM heads: bytes per token, tokens/s at 1 and
#      2 threads, the accuracy against fp16 (top-1, mean KL, largest |diff| / range), and the
#      4-bit head's speed-up over fp16.
set -euo pipefail
cd "$(dirname "$0")/.."
T=build/bin/tritune REPS=5 GEN=64 OUT=results/decode_roofline.jsonl TUNE=0 BIG=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tritune) T=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tune) TUNE=1; shift ;;
    --skip-100b) BIG=0; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "decode_roofline.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$T" ] || { echo "decode_roofline.sh: no tritune binary at $T (build first: ./scripts/setup.sh)" >&2; exit 3; }
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
MODELS=${MODELS:-bitnet-b1.58-2b-4t dummy-3.8b dummy-7b dummy-13b}  # env overrides: a quick check
HEAD_MODEL=${HEAD_MODEL:-bitnet-b1.58-2b-4t}
PROFILE_MODEL=${PROFILE_MODEL:-dummy-3.8b}
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
run() { echo "+ $T bench decode $*" >&2; "$T" bench decode "$@" --json --progress >>"$OUT" || true; }

if [ $TUNE = 1 ]; then
  for m in $MODELS; do for f in i2s tl2; do ./tune.sh --model "$m" --format "$f" --threads 1,2; done; done
  [ $BIG = 1 ] && ./tune.sh --model dummy-100b --format tl2 --threads 2
fi

run --model "$PROFILE_MODEL" --format i2s --threads 1 --prompt 16 --gen "$GEN" --reps "$REPS" --profile
for m in $MODELS; do
  for f in i2s tl2; do run --model "$m" --format "$f" --threads 1,2 --prompt 16 --gen "$GEN" --reps "$REPS"; done
done
[ $BIG = 1 ] && run --model dummy-100b --format tl2 --threads 2 --prompt 16 --gen 16 --reps 3
case " $MODELS " in *" $HEAD_MODEL "*) ;; *) run --model "$HEAD_MODEL" --format i2s --threads 1,2 --prompt 16 --gen "$GEN" --reps "$REPS" ;; esac
for h in i8 q4; do  # fp16: the run of section 2
  run --model "$HEAD_MODEL" --format i2s --threads 1,2 --prompt 16 --gen "$GEN" --reps "$REPS" --lm-head "$h"
done

PROFILE_MODEL=$PROFILE_MODEL HEAD_MODEL=$HEAD_MODEL "$PY" - "$OUT" <<'EOF'
import json, os, sys
pm, hm = os.environ["PROFILE_MODEL"], os.environ["HEAD_MODEL"]
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ok = lambda r: r.get("status") == "ok"
def pct(x): return "-" if x is None else f"{100 * x:.1f}%"
def num(x, f="{:.2f}"): return "-" if x is None else f.format(x)
ctx = [r for r in rows if r.get("kind") == "context"]
if ctx and ctx[0].get("warning"): print("WARNING:", ctx[0]["warning"])

print(f"\n1. Profile: {pm}, I2_S, tg, 1 thread")
print(f"{'part':12} {'ms/token':>9} {'share':>7} {'MiB/token':>10} {'GB/s':>7} {'%bw':>7}")
for r in rows:
    if r.get("kind") == "profile" and r["model"] == pm and r["phase"] == "tg":
        print(f"{r['part']:12} {1e3 * r['s_per_token']:9.3f} {pct(r['share']):>7} {r['bytes_per_token'] / 2**20:10.2f} "
              f"{num(r.get('gbps')):>7} {pct(r.get('bw_fraction')):>7}")

tg = [r for r in rows if r.get("kind") == "decode" and r.get("phase") == "tg"]
def untuned(r): return "untuned: " + ",".join(r["untuned_shapes"]) if r.get("untuned_shapes") else ""
print("\n2. tg against the read roofline (goal >= 90% for 3.8B and larger)")
print(f"{'model':20} {'format':6} {'thr':>3} {'tokens/s':>9} {'MiB/token':>10} {'GB/s':>7} {'bw GB/s':>8} {'%bw':>7}  remark")
for r in tg:
    if r.get("lm_head") in ("fp16", None) and r["model"] != "dummy-100b" and ok(r):
        print(f"{r['model']:20} {r['format']:6} {r['threads']:3} {r['tokens_per_s']:9.2f} {r['bytes_per_token'] / 2**20:10.1f} "
              f"{num(r.get('gbps')):>7} {num(r.get('bw_gbps')):>8} {pct(r.get('bw_fraction')):>7}  "
              f"{'' if r.get('stable') else 'unstable '}{untuned(r)}")
    elif not ok(r):
        print(f"{r.get('model', '?'):20} {r.get('format', '?'):6} {r.get('threads', 0):3} {r.get('status')}: {r.get('error', '')}")

print("\n3. dummy-100b, TL2, 2 threads (goal >= 90%)")
for r in tg:
    if r.get("model") == "dummy-100b":
        if ok(r):
            print(f"tokens/s {r['tokens_per_s']:.3f}  GiB/token {r['bytes_per_token'] / 2**30:.2f}  %bw {pct(r.get('bw_fraction'))}  "
                  f"load {r['load_s']:.1f} s  huge pages {num(r.get('huge_page_bytes') and r['huge_page_bytes'] / 2**30)} GiB  {untuned(r)}")
        else:
            print(f"{r.get('status')}: {r.get('error', '')}")

print(f"\n4. {hm} LM heads (goal: q4 >= 1.7x fp16 tokens/s)")
print(f"{'head':5} {'thr':>3} {'MiB/token':>10} {'tokens/s':>9} {'%bw':>7} {'top-1':>7} {'mean KL':>9} {'max|diff|/range':>16} {'vs fp16':>8}")
heads = {(r["lm_head"], r["threads"]): r for r in tg if r.get("model") == hm and ok(r)
         and r.get("format") == "i2s"}
for h in ("fp16", "i8", "q4"):
    for t in (1, 2):
        r = heads.get((h, t))
        if not r: continue
        base = heads.get(("fp16", t))
        sp = r["tokens_per_s"] / base["tokens_per_s"] if base else None
        print(f"{h:5} {t:3} {r['bytes_per_token'] / 2**20:10.1f} {r['tokens_per_s']:9.2f} {pct(r.get('bw_fraction')):>7} "
              f"{pct(r.get('head_top1')):>7} {num(r.get('head_kl'), '{:.3e}'):>9} {num(r.get('head_max_rel_diff'), '{:.3e}'):>16} "
              f"{num(sp, '{:.2f}x'):>8}")
EOF
echo "rows: $OUT" >&2
