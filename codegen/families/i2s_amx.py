"""I2_S GEMM on Intel AMX-INT8 tiles (prefill and batched decoding).

No public ternary kernel uses AMX; this family is tritune's own design.

Layout: the AVX-512 repack "i2s256" (runtime/formats/repack_i2s.c), so a
tensor prepared for the AVX-512 GEMV needs no second copy: per row, groups
of 256 weights in 64 bytes, byte j holding weights j, j+64, j+128, j+192 at
shifts 6, 4, 2, 0 (code w + 1).

Tiles.  C (16 tokens x 16 rows, int32) += A (16 tokens x 64 k, int8 x,
read in place with stride Kp) . B (16 k-quads x 16 rows x 4, the "VNNI4"
layout).  A block of `rows` (16 or 32) weight rows and `ntok` (16 or 32)
tokens keeps ntok/16 x rows/16 accumulator tiles, with ntok/16 A tiles and
rows/16 B tiles: at most 4 + 2 + 2 = 8 tiles, all AMX has.

Weight decode (2-bit codes -> B tiles).  For 16 rows, the 64-byte group g
of each row is loaded and the 16 x 16 matrix of dwords transposed
(unpack/shuffle, 64 shuffles per group): dword r of row m then sits in
lane m of vector r, and its bytes hold codes for k = 256g + 64p + 4r + j
at shift 6 - 2p.  Plane p of vector r, masked, is row r of the B tile of
k-block 4g + p.  So one transpose serves 4 tiles.
    decode=0 ("panel"): K is cut in chunks of BK weights; a chunk of the
        row block is decoded once into an L1 buffer on the stack (rows x BK
        bytes) and used by every token block, whose partial sums wait in
        y between chunks: best when there are many tokens.
    decode=1 ("fused"): the 4 tiles of group g are decoded just before use,
        for each token block: no buffer, decode overlaps the tile products;
        best with few tokens (N <= 32).

Exactness.  tdpbsud multiplies signed int8 x by unsigned codes in {0, 1, 2}
into int32: sum_k code*x - sum_k x = sum_k w*x.  The accumulators start at
-xsum[n] (a bias tile), so no epilogue is needed.  One tile product adds at
most 64 * 2 * 128 = 16384 per lane, so int32 is exact for K < 2^31 / 256,
far beyond max_k.

Edges.  A block with fewer than 16 tokens or rows configures its tiles with
fewer rows / columns (ldtilecfg; only on the edge blocks), so nothing is
read or written outside [m0, m1) x [n0, n1).
"""

from ..space import Variant, grid, tiles_of

FAMILY = "i2s"


def restrict(isa, op, p):
    if p["rows"] not in (16, 32) or p["ntok"] not in (16, 32):
        return "rows and ntok are 16 or 32 (one or two tiles)"
    if p["decode"] not in (0, 1):
        return "decode is 0 (panel) or 1 (fused)"
    if p["decode"] == 0 and (p.get("BK", 0) % 256 or not 256 <= p.get("BK", 0) <= 4096):
        return "panel decode takes K chunks (BK) of 256 .. 4096, multiples of the 256-weight group"
    if p["decode"] == 1 and "BK" in p:
        return "fused decode has no K chunk"
    return None


def prior(p):
    """Untuned preference: 2 x 2 tiles, panel decode (the most tile
    products per loaded byte).  A guess; tuning replaces it."""
    return (p["rows"] == 32) * 4 + (p["ntok"] == 32) * 4 + (p["decode"] == 0) * 2 + (p.get("BK") == 1024)


def variants(arch):
    if arch != "x86_64":
        return []
    out = []
    space = [dict(p, BK=bk) for p in grid(rows=[16, 32], ntok=[16, 32], decode=[0]) for bk in (512, 1024, 2048)]
    space += list(grid(rows=[16, 32], ntok=[16, 32], decode=[1]))
    for p in space:
        if restrict("amx", "gemm", p):
            continue
        out.append(Variant(
            op="gemm", wfmt="i2s", afmt="i8", isa="amx",
            template="i2s_gemm_amx.c.j2",
            tiles=tiles_of(p),
            layout="i2s256",
            ref="tt_ref_i2s_gemm",
            repack="tt_repack_i2s256",
            max_n=0,
            row_align=p["rows"],
            prio=prior(p),
        ))
    return out
