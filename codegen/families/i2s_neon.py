"""I2_S (2 bits/weight) GEMV and GEMM variants for aarch64 NEON, with and
without the dot-product extension, on the canonical layout (runtime/
formats.h): no repack, so the ARM kernels read exactly the bytes the x86
ones do (bitnet.cpp's ARM I2_S used 64-weight blocks against 128-weight
files and produced garbage: docs/background.md §4).

A 16-byte half of a 32-byte block holds, in plane p (shift 6 - 2p), the
codes c = w + 1 in {0, 1, 2} of weights 32p + j, j in the half; kernels sum
c * x and subtract sum(x) in the epilogue.

Exactness.
  neon (vmlal_s8 into int16, vpadalq_s16 into int32 after each unrolled
    iteration): one product is c*x in [-256, 254]; per 128-weight block an
    int16 lane takes 2 halves x 4 planes x 2 (low/high) = 16 products, so
    kunroll blocks stay exact while 16 * kunroll * 256 <= 32767: kunroll <= 7.
  neondot (sdot into int32): a lane grows by at most 4 * 256 per
    instruction; exact for any K a tensor can have.
"""

from ..space import Variant, grid, tiles_of

FAMILY = "i2s"

PRODUCT_MAX = 256                 # |c * x| <= 2 * 128
PRODUCTS_PER_BLOCK_LANE = 16      # see docstring
INT16_MAX = 32767
ACC_BUDGET = 16                   # int32x4 accumulators kept live (32 V registers)


def restrict(isa, op, p):
    rows, ku, ntok = p.get("rows", 1), p.get("kunroll", 1), p.get("ntok", 1)
    if rows < 1 or ku < 1 or ntok < 1:
        return "rows, kunroll and ntok must be >= 1"
    if op == "gemv" and ntok != 1:
        return "a GEMV has one token"
    if isa == "neon" and PRODUCTS_PER_BLOCK_LANE * ku * PRODUCT_MAX > INT16_MAX:
        return (f"int16 overflow: {PRODUCTS_PER_BLOCK_LANE} * kunroll * {PRODUCT_MAX} = "
                f"{PRODUCTS_PER_BLOCK_LANE * ku * PRODUCT_MAX} > {INT16_MAX}")
    live = rows * ntok * (2 if isa == "neon" else 1)   # neon: int16 + int32 accumulators
    if live > ACC_BUDGET:
        return f"register pressure: {live} accumulators > {ACC_BUDGET}"
    return None


def _space(arch):
    if arch != "aarch64":
        return []
    out = []
    for isa in ("neon", "neondot"):
        for p in grid(rows=[1, 2, 4], kunroll=[1, 2, 4]):
            out.append((isa, "gemv", dict(p)))
        for p in grid(rows=[2, 4], ntok=[2, 4]):
            out.append((isa, "gemm", dict(rows=p["rows"], kunroll=1, ntok=p["ntok"])))
    return out


def prior(isa, op, p):
    """Untuned guess: 4 rows sharing activation loads, 2 blocks per iteration."""
    return {1: 0, 2: 6, 4: 10}[p["rows"]] + (2 if p.get("kunroll", 1) == 2 else 0) + \
        (4 if p.get("ntok", 1) == 4 else 0)


def make(isa, op, p):
    return Variant(
        op=op, wfmt="i2s", afmt="i8", isa=isa,
        template="i2s_neon.c.j2",
        tiles=tiles_of(p),
        layout="i2s",
        ref=f"tt_ref_i2s_{op}",
        max_n=1 if op == "gemv" else 0,
        row_align=p.get("rows", 1),
        prio=prior(isa, op, p),
    )


def variants(arch):
    return [make(isa, op, p) for isa, op, p in _space(arch) if restrict(isa, op, p) is None]
