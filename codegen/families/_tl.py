"""Shared space, restrictions and size formulas of the lookup-table families
TL1 and TL2 (codegen/families/tl1.py, tl2.py).  See runtime/formats_tl.h
for the layouts; every formula below is asserted in C as well.

A "slot" is a group of SW weights (TL1: 2; TL2: 3, plus a 2-weight tail
slot when K % 3 != 0) with a 16-entry int16 table per token ("lut16").
Kernels look up 32 rows of one slot per 16-byte table lookup (pshufb /
vpshufb / tbl), rebuild each exact int16 entry from its lo and hi byte
planes, apply the TL2 sign, and add into int16 accumulators for BK weights
(a K block), then widen into int32.

Exactness: one looked-up entry has |e| <= SW * 128 (TL1 256, TL2 384:
x in [-128, 127], weights in {-1, 0, 1}).  An int16 lane accumulates at most
BK / SW slots before widening, so it cannot wrap while
    (BK / SW) * ENTRY_MAX <= 32767        (TL1: BK <= 254, TL2: BK <= 255).
TL1 BK = 256 would reach 128 * 256 = 32768 and wrap (docs/background.md §4): it is
rejected.  The bound counts every slot of the block against every lane,
although on AVX2/AVX-512 a lane sees only 1/2 or 1/4 of them.

neondot kernels (layout <fmt>p32d) sum the lo and hi byte planes with
udot/sdot straight into int32 lanes: no int16 stage, so BK only sizes the
table block kept in L1 (a lane grows by at most 4*255 + 256*4*128 per
group of 4 slots; int32 holds that for any K a tensor can have).
"""

from ..space import Variant, grid, tiles_of

INT16_MAX = 32767
PANEL = 32            # rows per panel: 16 bytes of nibbles = 32 rows
GROUP = 4             # slots per table group
SW = {"tl1": 2, "tl2": 3}                 # weights per slot
ENTRY_MAX = {"tl1": 2 * 128, "tl2": 3 * 128}
GROUP_BYTES = {"tl1": 64, "tl2": 80}      # panel bytes per group (runtime/formats_tl.h)
LUT_GROUP_BYTES = 128                     # 4 slots x 16 entries x (lo, hi)
INT32_LANES = ("neondot", "avx512vbmi")  # dot-product kernels: no int16 accumulation
LUT_ISA = {"avx2": "avx2", "avx512": "avx512", "avx512vbmi": "avx512", "neon": "neon", "neondot": "neon"}
# int16 accumulators a kernel keeps live: 4 per panel (8 rows each) per token
ACC_BUDGET = {"avx2": 8, "avx512": 16, "avx512vbmi": 16, "neon": 16, "neondot": 16}


# ---- size formulas (mirrors of runtime/formats_tl.h) -----------------------------
def ceil_div(a, b):
    return -(-a // b)


def slots(fmt, K):
    return ceil_div(K, 2) if fmt == "tl1" else K // 3 + (K % 3 != 0)


def row_bytes(fmt, K):
    """Canonical bytes per row."""
    if fmt == "tl1":
        return ceil_div(K, 4)
    T = K // 3
    return ceil_div(T, 2) + ceil_div(T, 8) + (K % 3 != 0)


def canon_bytes(fmt, M, K):
    return M * row_bytes(fmt, K)


def lut_bytes(fmt, K):
    return ceil_div(slots(fmt, K), GROUP) * LUT_GROUP_BYTES


def panel_bytes(fmt, M, K):
    return ceil_div(M, PANEL) * ceil_div(slots(fmt, K), GROUP) * GROUP_BYTES[fmt]


# ---- restrictions ------------------------------------------------------------------
def restrict(fmt, isa, op, p):
    """None if the tile dict p is valid for (fmt, isa, op), else why not."""
    if isa == "c":
        return None
    BM, BK, bm, ntok = p["BM"], p["BK"], p["bm"], p.get("ntok", 1)
    if p.get("prefetch", 0) % 64:
        return "prefetch distance must be a multiple of the 64-byte cache line"
    if bm < PANEL or bm % PANEL:
        return f"bm = {bm} must be a multiple of the {PANEL}-row panel"
    if BM < bm or BM % bm:
        return f"BM = {BM} must be a multiple of bm = {bm}"
    if BK <= 0 or BK % (SW[fmt] * GROUP):
        return f"BK = {BK} must be a multiple of {SW[fmt] * GROUP} (groups of {GROUP} slots of {SW[fmt]} weights)"
    n_slots = BK // SW[fmt]
    if isa not in INT32_LANES and n_slots * ENTRY_MAX[fmt] > INT16_MAX:
        return (f"int16 overflow: BK/{SW[fmt]} = {n_slots} slots x |entry| {ENTRY_MAX[fmt]} = "
                f"{n_slots * ENTRY_MAX[fmt]} > {INT16_MAX}")
    if op == "gemv" and ntok != 1:
        return "a GEMV has one token"
    if isa == "neondot":
        # udot/sdot sum into int32 directly: no int16 bound; 16 int32x4
        # accumulators per 32-row panel and token fill the register file
        if bm != PANEL or ntok != 1:
            return "neondot keeps 16 int32 accumulators per panel: bm = 32, ntok = 1"
        return None
    if isa == "avx512vbmi":
        # vpdpbusd sums into int32 directly: no int16 bound; 4 zmm
        # accumulators per panel and token, plus 2-4 table registers per token
        live = ntok * (bm // PANEL) * 4
        if live > ACC_BUDGET[isa]:
            return f"register pressure: {live} int32 accumulators > {ACC_BUDGET[isa]}"
        return None
    live = ntok * (bm // PANEL) * 4
    if live > ACC_BUDGET[isa]:
        return f"register pressure: {live} int16 accumulators > {ACC_BUDGET[isa]}"
    return None


def _space(fmt, arch):
    out = [("c", "gemv", dict(bm=1)), ("c", "gemm", dict(bm=1))]
    bks = {"tl1": [64, 128, 248], "tl2": [96, 192, 252]}[fmt]
    simd = ["avx2", "avx512"] if arch == "x86_64" else ["neon"]
    if arch == "aarch64":
        for p in grid(BM=[64, 256], BK=bks + [384]):
            out.append(("neondot", "gemv", dict(p, bm=32)))
        out.append(("neondot", "gemm", dict(BM=64, BK=bks[1], bm=32, ntok=1)))
    # Software prefetch (bytes ahead in each 32-row panel's stream) matters
    # when weights stream from DRAM (docs/background.md §5); a few distances on the
    # widest tiles only, to keep the space small.
    if arch == "x86_64":
        for p in grid(BM=[64, 128, 256], BK=[384, 768], bm=[64, 128]):
            out.append(("avx512vbmi", "gemv", dict(p)))
        # BM = bm = 128: each thread streams 4 panels at a time instead of
        # alternating between two sets of 4 (BM = 256), for the same table
        # loads; BK then only sets how often the int32 lanes are flushed.
        # (4096 ahead won none of the 29 TL2 GEMV keys tuned on 2026-12-02.)
        for p in grid(prefetch=[1024, 2048], BM=[256], BK=[384, 768], bm=[128]):
            out.append(("avx512vbmi", "gemv", dict(p)))
        for p in grid(prefetch=[1024, 2048], BM=[128], BK=[384, 1536], bm=[128]):
            out.append(("avx512vbmi", "gemv", dict(p)))
        for p in grid(BM=[128], BK=[384], bm=[32, 64], ntok=[1, 2, 4]):
            out.append(("avx512vbmi", "gemm", dict(p)))
    for isa in simd:
        for p in grid(BM=[64, 256], BK=bks if isa == "neon" else bks[1:], bm=[32, 64]):
            out.append((isa, "gemv", dict(p)))
        if isa != "neon":
            for p in grid(prefetch=[2048], BM=[256], BK=bks[1:], bm=[64]):
                out.append((isa, "gemv", dict(p)))
        for p in grid(BM=[64], BK=bks[1:2], bm=[32, 64], ntok=[1, 2, 4]):
            out.append((isa, "gemm", dict(p)))
    return out


def prior(isa, op, p):
    """Untuned preference: a guess, which tuning replaces.  Software prefetch
    dominates it: every streaming GEMV winner measured on 2026-11-21
    (scripts/bench_kernels.sh and ./tune.sh --model dummy-7b, TL2, 10 of 10
    shape/thread keys) prefetched 1-2 KiB ahead, and the best variant without
    prefetch decoded a 7B model at 70% of the roofline against 96% tuned.
    Then: tables of a 192-weight block stay in L1, two panels share each
    table load.  A streaming GEMV on AVX-512 VBMI first: ./tune.sh on
    2026-12-02 (this machine kind, TL2, dummy 2B-4T/3.8B/7B/13B/100B shapes,
    1 and 2 threads) chose a VBMI kernel for 26 of 29 GEMV keys, 25 of them
    prefetch=1024 BM=256 bm=128, while AVX-512 (vpshufb) kept the GEMMs;
    and there BM = bm = 128 streamed 2-8% faster than BM = 256 (3840x3840,
    3840x8192, 1 and 2 threads, bench kernel --passes 3, same day)."""
    if isa == "c":
        return 0
    score = 6 + 3 * (p["BM"] == p["bm"]) if (isa, op) == ("avx512vbmi", "gemv") else 0
    score += {1024: 8, 2048: 6, 4096: 3}.get(p.get("prefetch", 0), 0)
    score += 3 if p["bm"] == 64 else 2
    score += 4 if p["BK"] in (128, 192) else 0
    score += 2 if p["BM"] == 256 else 0
    score += {1: 0, 2: 3, 4: 4}.get(p.get("ntok", 1), 0)
    return score


# TL2 on AVX-512 VBMI has two table formats (runtime/formats/tl.h): "lut16s"
# (planes of +e and -e, vpermi2b: 3 uops per lookup) and "lut16d" (e = 2L -
# 3H, one-table vpermb: 1 uop, the sign as the vpdpbusd multiplier): 13
# instead of 21 vector uops per 32 rows x 4 slots.
VBMI_TL2_TABLES = ("lut16s", "lut16d")


def table_formats(fmt, isa):
    return VBMI_TL2_TABLES if (fmt, isa) == ("tl2", "avx512vbmi") else ("lut16",)


def make(fmt, isa, op, p, afmt="lut16"):
    fam = "c" if isa == "c" else isa if isa in ("neon", "neondot", "avx512vbmi") else "x86"
    canonical = isa == "c"
    layout = fmt if canonical else f"{fmt}p32d" if isa in INT32_LANES else f"{fmt}p32"
    prep = f"tt_lut_{fmt}" if canonical else f"tt_lut_{fmt}_{LUT_ISA[isa]}"
    if afmt != "lut16":
        prep = f"tt_lut_tl2{afmt[-1]}_avx512vbmi"   # lut16s -> tl2s, lut16d -> tl2d
    return Variant(
        op=op, wfmt=fmt, afmt=afmt, isa=isa,
        template=f"tl_{fam}.c.j2",
        tiles=tiles_of(p),
        layout=layout,
        ref=f"tt_ref_{fmt}_{op}",
        repack=None if canonical else f"tt_repack_{layout}",
        # table builder: portable C for the C kernels, else the ISA's own
        # (runtime/isa/lut_<isa>.c; neondot uses the plain NEON builder)
        act_prep=prep,
        max_n=1 if op == "gemv" else 0,
        # threads split rows in whole panels, not tiles: a kernel tiles its own
        # range by BM from any panel boundary, and BM-sized units split
        # unevenly (3840 rows = 15 tiles of 256: 8 + 7 at 2 threads, 640 = 3)
        row_align=1 if canonical else PANEL,
        prio=prior(isa, op, p) + (afmt == "lut16d"),
    )


def variants(fmt, arch):
    out = []
    for isa, op, p in _space(fmt, arch):
        if restrict(fmt, isa, op, p) is None:
            out.extend(make(fmt, isa, op, p, afmt) for afmt in table_formats(fmt, isa))
    return out
