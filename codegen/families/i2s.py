"""I2_S (2 bits/weight) GEMV and GEMM variants.

Layouts
  "i2s"     canonical (runtime/formats.h): 128-weight blocks -> 32 bytes.
            Portable C and AVX2 read it as is (a 32-byte block is one ymm
            whose four 2-bit planes line up with 32 consecutive activations).
  "i2s256"  AVX-512 repack (runtime/repack.c): 256-weight groups -> 64 bytes,
            one zmm whose four planes line up with 64 consecutive activations.

Exactness (docs/background.md §4).  Codes are 0, 1, 2 (3 never: rejected on load);
activations are int8 in [-128, 127].
  maddubs (AVX2, AVX-512 without VNNI): one vpmaddubsw lane is
    c0*x0 + c1*x1 in [2*2*-128, 2*2*127] = [-512, 508], so int16 sums of at
    most 64 such lanes cannot wrap (64*512 = 32768).  A kernel sums the 4
    planes of `kunroll` blocks in int16 before widening: 4*kunroll <= 64.
  dpbusd (AVX-512 VNNI), shift decode: codes in {0,1,2} accumulate straight
    into int32; one lane grows by at most 4*2*128 = 1024 per block, so
    int32 is exact for K < 2^31 / 1024 * 256 (max_k below is far smaller).
  dpbusd, mask decode: the plane is masked in place (v & 0xC0 etc.), so the
    unsigned operand is code * 4^s in {0, .., 128}; each plane has its own
    accumulator and the sum is shifted back exactly at the end.  One lane
    grows by at most 4*128*128 = 65536 per 256-weight group: exact while
    K/256 * 65536 < 2^31, i.e. K <= 8,388,608 (max_k).
"""

from ..space import Variant, RestrictionError, grid, tiles_of

FAMILY = "i2s"

MADDUBS_LANE_MAX = 512          # |c0*x0 + c1*x1| <= 2*2*128
INT16_LIMIT = 32768
MASK_DECODE_MAX_K = 8388608     # see module docstring
ZMM_ACC_BUDGET = 16             # accumulators we allow a kernel to keep live
YMM_ACC_BUDGET = 8


def restrict(isa, op, p):
    """Return None if the parameter dict is valid for (isa, op), else why not."""
    rows, ku = p.get("rows", 1), p.get("kunroll", 1)
    if rows < 1 or ku < 1:
        return "rows and kunroll must be >= 1"
    if isa in ("avx2", "avx512"):
        # int16 accumulation over one unrolled iteration: 4 planes * kunroll lanes
        if 4 * ku * MADDUBS_LANE_MAX > INT16_LIMIT:
            return f"int16 overflow: 4*kunroll*{MADDUBS_LANE_MAX} > {INT16_LIMIT}"
    accs = p.get("accs", 1)
    ntok = p.get("ntok", 1)
    budget = YMM_ACC_BUDGET if isa == "avx2" else ZMM_ACC_BUDGET
    if rows * accs * ntok > budget:
        return f"register pressure: rows*accs*ntok = {rows * accs * ntok} > {budget}"
    if p.get("decode", 0) == 1:
        if isa != "avx512vnni":
            return "mask decode needs vpdpbusd (avx512vnni)"
        if accs != 4:
            return "mask decode keeps one accumulator per plane (accs = 4)"
    elif accs not in (1, 2):
        return "shift decode uses 1 or 2 accumulators per row"
    if p.get("spread", 0) and (op != "gemv" or rows < 2):
        return "spread needs a GEMV of 2 rows or more a step"
    if p.get("prefetch", 0) % 64:
        return "prefetch distance must be a multiple of the 64-byte cache line"
    return None


def _space(arch):
    """(isa, op, params) candidates; restrict() filters them."""
    out = []
    # portable C: works everywhere, the generic fallback is r1u1 / r1t1
    for p in grid(rows=[1, 4], kunroll=[1, 2]):
        out.append(("c", "gemv", dict(p, accs=1, prefetch=0)))
    for p in grid(rows=[1, 4], ntok=[1, 4]):
        if p["rows"] == p["ntok"]:
            out.append(("c", "gemm", dict(p, kunroll=1, accs=1, prefetch=0)))
    if arch != "x86_64":
        return out
    for p in grid(rows=[1, 2, 4], kunroll=[1, 2], prefetch=[0, 2048]):
        out.append(("avx2", "gemv", dict(p, accs=1)))
    for p in grid(rows=[2, 4], ntok=[2, 4]):
        out.append(("avx2", "gemm", dict(p, kunroll=1, accs=1, prefetch=0)))
    for p in grid(rows=[2, 4], kunroll=[1, 2], prefetch=[0, 2048]):
        out.append(("avx512", "gemv", dict(p, accs=1)))
    for p in grid(rows=[2, 4], ntok=[4]):
        out.append(("avx512", "gemm", dict(p, kunroll=1, accs=1, prefetch=0)))
    # VNNI GEMV: the decode-bound path; prefetch distance matters ~1.8x when streaming
    for p in grid(rows=[1, 2, 4, 8], kunroll=[1, 2], prefetch=[0, 1024, 2048, 4096]):
        if p["rows"] == 1 and (p["kunroll"] != 1 or p["prefetch"] not in (0, 2048)):
            continue
        out.append(("avx512vnni", "gemv", dict(p, accs=1, decode=0)))
    for p in grid(rows=[2, 4], kunroll=[1, 2], prefetch=[0, 1024, 2048, 4096]):
        out.append(("avx512vnni", "gemv", dict(p, accs=4, decode=1)))
    # spread rows: 4 weight streams a quarter of the range apart (docs/decode.md, "Streams")
    for p in grid(rows=[4], prefetch=[1024, 2048]):
        out.append(("avx512vnni", "gemv", dict(p, kunroll=1, accs=4, decode=1, spread=1)))
        out.append(("avx512vnni", "gemv", dict(p, kunroll=1, accs=1, decode=0, spread=1)))
    for p in grid(rows=[1, 2, 4], ntok=[1, 2, 4, 8]):
        out.append(("avx512vnni", "gemm", dict(p, kunroll=1, accs=1, prefetch=0, decode=0)))
    return out


def prior(isa, op, p):
    """Untuned preference among variants of one ISA: a guess, which tuning
    replaces.  Weighted by the GEMV measurements of `./tune.sh --quick` on
    the 2-core Xeon (AVX-512 VNNI, AMX) of 2026-12-01 (machine id
    intel-r-xeon-r-processor-2c-28999ef1, results/<id>/kernel_runs.jsonl: the
    BitNet-2B-4T shapes 640x2560, 2560x2560, 6912x2560, 2560x6912, streaming,
    1 and 2 threads).  Per variant, the geometric mean over those 8 keys of
    (best time / its time): r2u1 mask-decode p2048 0.98 (the best), r1u1
    shift p2048 0.96, r4u2 mask p2048 0.92 (the earlier prior's pick); by
    parameter, the mean over the VNNI variants: rows 2 0.85 > 4 0.81 > 1
    0.76 > 8 0.70; prefetch 2048 0.90 > 4096 0.86 > 1024 0.83 > 0 0.64; mask
    decode 0.89 > shift 0.75; kunroll 1 and 2 equal (the best of each: 0.98
    vs 0.97).  Also docs/background.md §5 (rows sharing activation loads,
    ~2 KiB prefetch).  GEMM: 4 tokens per step.
    Spread rows (+3, so r4u1a4d1p2048s1 comes first): in the quiet tunes of
    2026-12-02 on the same machine (./tune.sh --model M --format i2s,tl2
    --threads 1,2 --batch 1 for bitnet-b1.58-2b-4t, dummy-3.8b, dummy-7b,
    dummy-13b: 26 I2_S GEMV keys) a spread variant won 21 keys,
    r4u1a4d1p2048s1 15 of them; r2u1a4d1p2048 won 4."""
    score = 0
    score += {1: 0, 2: 10, 4: 8, 8: 4}.get(p.get("rows", 1), 0)
    score += {1024: 3, 2048: 6, 4096: 4}.get(p.get("prefetch", 0), 0)
    score += 1 if p.get("kunroll", 1) == 1 else 0
    score += 3 if p.get("decode", 0) == 1 else 0
    score += 3 if p.get("spread", 0) else 0
    score += 4 if p.get("ntok", 1) == 4 else 0
    return score


def make(isa, op, p):
    layout = "i2s256" if isa.startswith("avx512") else "i2s"
    return Variant(
        op=op, wfmt="i2s", afmt="i8", isa=isa,
        template=f"i2s_{op}_{isa}.c.j2",
        tiles=tiles_of(p),
        layout=layout,
        ref=f"tt_ref_i2s_{op}",
        repack="tt_repack_i2s256" if layout == "i2s256" else None,
        max_k=MASK_DECODE_MAX_K if p.get("decode", 0) == 1 else (1 << 30),
        max_n=1 if op == "gemv" else 0,
        row_align=p.get("rows", 1),
        prio=prior(isa, op, p),
    )


def variants(arch):
    out = []
    for isa, op, p in _space(arch):
        why = restrict(isa, op, p)
        if why is not None:
            continue
        out.append(make(isa, op, dict(p)))
    return out
