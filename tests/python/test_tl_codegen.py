"""TL1 / TL2 / NEON I2_S generator: restrictions (divisibility, int16
overflow bounds, register budgets), size formulas (the same numbers
tests/c/test_tl_formats.c asserts in C), and the variants generated."""
import pytest

from codegen import gen
from codegen.families import _tl, i2s_neon, tl1, tl2

GOOD = dict(BM=64, BK=192, bm=32)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_tl_variant_satisfies_its_restrictions(arch):
    vs = [v for v in gen.collect(arch) if v.wfmt in ("tl1", "tl2")]
    assert vs
    for v in vs:
        p = v.t
        assert _tl.restrict(v.wfmt, v.isa, v.op, p) is None, v.name
        if v.isa != "c":
            assert p["bm"] % _tl.PANEL == 0 and p["BM"] % p["bm"] == 0, v.name
            assert p["BK"] % (_tl.SW[v.wfmt] * _tl.GROUP) == 0, v.name
            if v.isa not in _tl.INT32_LANES:  # int16 lanes
                assert p["BK"] // _tl.SW[v.wfmt] * _tl.ENTRY_MAX[v.wfmt] <= 32767, v.name
            assert v.row_align == _tl.PANEL   # threads split rows in whole panels
            assert v.layout == v.wfmt + ("p32d" if v.isa in _tl.INT32_LANES else "p32")
            assert v.repack == "tt_repack_" + v.layout
        else:
            assert v.layout == v.wfmt and v.repack is None
        want = f"tt_lut_{v.wfmt}" if v.isa == "c" else f"tt_lut_{v.wfmt}_{_tl.LUT_ISA[v.isa]}"
        if v.isa == "avx512vbmi" and v.wfmt == "tl2":
            # signed tables (lut16s) or the 2L - 3H planes (lut16d)
            assert v.afmt in ("lut16s", "lut16d"), v.name
            want = "tt_lut_tl2" + v.afmt[-1] + "_avx512vbmi"
        else:
            assert v.afmt == "lut16", v.name
        assert v.act_prep == want, v.name


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_tl_counts_moderate_and_generic_present(arch):
    vs = gen.collect(arch)
    for fmt in ("tl1", "tl2"):
        f = [v for v in vs if v.wfmt == fmt]
        assert 4 <= len(f) <= 80, (fmt, len(f))
        for op in ("gemv", "gemm"):
            assert any(v.op == op and v.isa == "c" and v.layout == fmt for v in f), (fmt, op)
            isas = {v.isa for v in f if v.op == op}
            want = {"c", "avx2", "avx512", "avx512vbmi"} if arch == "x86_64" else {"c", "neon", "neondot"}
            assert want <= isas, (fmt, op, isas)


def test_overflowing_bk_is_rejected():
    # TL1: BK = 256 is 128 slots x 256 = 32768 > 32767 (docs/background.md §4)
    assert "int16 overflow" in tl1.restrict("avx2", "gemv", dict(GOOD, BK=256))
    assert tl1.restrict("avx2", "gemv", dict(GOOD, BK=248)) is None
    # TL2: BK = 264 is 88 slots x 384 = 33792 > 32767; 252 -> 84 x 384 = 32256 fits
    assert "int16 overflow" in tl2.restrict("avx512", "gemv", dict(GOOD, BK=264))
    assert tl2.restrict("avx512", "gemv", dict(GOOD, BK=252)) is None
    # NEON I2_S int16 accumulation: 16 products of 256 per block and lane
    assert "int16 overflow" in i2s_neon.restrict("neon", "gemv", dict(rows=1, kunroll=8))
    assert i2s_neon.restrict("neon", "gemv", dict(rows=1, kunroll=4)) is None
    assert i2s_neon.restrict("neondot", "gemv", dict(rows=1, kunroll=8)) is None


def test_neondot_has_no_int16_bound_but_one_panel():
    assert tl1.restrict("neondot", "gemv", dict(GOOD, BK=512)) is None     # int32 lanes: no wrap
    assert tl1.restrict("neon", "gemv", dict(GOOD, BK=512)) is not None    # int16 lanes would wrap
    assert tl2.restrict("neondot", "gemv", dict(GOOD, bm=64)) is not None
    assert tl2.restrict("neondot", "gemm", dict(GOOD, ntok=2)) is not None


def test_vbmi_int32_lanes_and_budget():
    assert tl1.restrict("avx512vbmi", "gemv", dict(GOOD, BK=768)) is None   # vpdpbusd: no int16 stage
    assert tl2.restrict("avx512vbmi", "gemv", dict(GOOD, BM=128, bm=128)) is None
    assert tl2.restrict("avx512vbmi", "gemm", dict(GOOD, BM=128, bm=64, ntok=4)) is not None  # 32 zmm
    assert tl2.restrict("avx512vbmi", "gemv", dict(GOOD, prefetch=100)) is not None


def test_divisibility_and_budget_rejected():
    assert tl2.restrict("avx2", "gemv", dict(GOOD, BK=100)) is not None   # not a multiple of 12
    assert tl1.restrict("avx2", "gemv", dict(GOOD, BK=60)) is not None    # not a multiple of 8
    assert tl2.restrict("avx2", "gemv", dict(GOOD, bm=48)) is not None    # not whole panels
    assert tl2.restrict("avx2", "gemv", dict(GOOD, BM=96, bm=64)) is not None
    assert tl2.restrict("avx2", "gemm", dict(GOOD, bm=64, ntok=2)) is not None  # 16 accumulators > 8
    assert tl2.restrict("avx512", "gemm", dict(GOOD, bm=64, ntok=2)) is None
    assert tl2.restrict("avx2", "gemv", dict(GOOD, ntok=2)) is not None


def test_size_formulas():
    # canonical: TL1 2 bpw (ceil(K/4) bytes per row); TL2 5 bits per triple + tail byte
    assert _tl.row_bytes("tl1", 2560) == 640
    assert _tl.row_bytes("tl2", 2560) == 427 + 107 + 1
    assert _tl.row_bytes("tl2", 1) == 1 and _tl.row_bytes("tl2", 2) == 1 and _tl.row_bytes("tl2", 3) == 2
    for K in range(24, 24 * 50, 24):
        assert _tl.row_bytes("tl2", K) * 24 == 5 * K          # 5/3 bpw on whole blocks
        assert _tl.row_bytes("tl1", K) * 4 == K               # 2 bpw
    for K in (1, 2, 5, 97, 2560, 8640, 45568):
        for fmt in ("tl1", "tl2"):
            assert _tl.canon_bytes(fmt, 7, K) == 7 * _tl.canon_bytes(fmt, 1, K)
    # tables: 128 bytes per 4 slots (TL2 about 10.7 bytes per K element)
    assert _tl.lut_bytes("tl2", 2560) == -(-854 // 4) * 128
    assert abs(_tl.lut_bytes("tl2", 12 * 1000) / (12 * 1000) - 128 / 12) < 1e-9
    # panels: 32 rows x 4 slots -> 64 (TL1) / 80 (TL2) bytes: same bpw as canonical
    assert _tl.panel_bytes("tl2", 32, 12) * 8 == 32 * 12 * 5 // 3
    assert _tl.panel_bytes("tl1", 32, 8) * 8 == 32 * 8 * 2
    assert _tl.panel_bytes("tl2", 33, 12) == 2 * 80


def test_neon_i2s_uses_canonical_layout():
    vs = [v for v in gen.collect("aarch64") if v.wfmt == "i2s" and v.isa.startswith("neon")]
    assert {v.isa for v in vs} == {"neon", "neondot"}
    assert all(v.layout == "i2s" and v.repack is None for v in vs)
    assert not [v for v in gen.collect("x86_64") if v.isa.startswith("neon")]
