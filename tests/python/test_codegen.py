"""Generator: restrictions, naming, determinism, table consistency."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import gen
from codegen.families import i2s, i2s_amx
from codegen.isas import ISAS
from codegen.space import Variant, RestrictionError, TILE_CODES, tiles_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_names_unique_and_canonical(arch):
    vs = gen.collect(arch)
    names = [v.name for v in vs]
    assert len(names) == len(set(names))
    pat = re.compile(r"^(gemv|gemm)_(i2s|tl1|tl2)_[a-z0-9]+_(" + "|".join(ISAS) + r")_[A-Za-z0-9]+$")
    for v in vs:
        assert pat.match(v.name), v.name
        assert v.name == f"{v.op}_{v.wfmt}_{v.afmt}_{v.isa}_{v.tile_str}"
        assert arch in ISAS[v.isa].arch


def test_x86_has_enough_i2s_variants():
    vs = [v for v in gen.collect("x86_64") if v.wfmt == "i2s"]
    assert len(vs) >= 20
    assert {"c", "avx2", "avx512", "avx512vnni"} <= {v.isa for v in vs}


def test_every_variant_passes_its_restrictions():
    for v in gen.collect("x86_64"):
        if v.wfmt != "i2s" or v.isa.startswith("neon"):
            continue
        p = dict(v.tiles)
        fam = i2s_amx if v.isa == "amx" else i2s
        assert fam.restrict(v.isa, v.op, p) is None, v.name


def test_amx_space_and_restrictions():
    vs = [v for v in gen.collect("x86_64") if v.isa == "amx"]
    assert vs and all(v.op == "gemm" and v.layout == "i2s256" and v.ref == "tt_ref_i2s_gemm" for v in vs)
    assert all(v.row_align == dict(v.tiles)["rows"] for v in vs)  # threads get whole row blocks
    # at most 8 tiles: ntok/16 x rows/16 accumulators + ntok/16 A + rows/16 B
    for v in vs:
        t = dict(v.tiles)
        assert (t["ntok"] // 16) * (t["rows"] // 16) + t["ntok"] // 16 + t["rows"] // 16 <= 8, v.name
    assert i2s_amx.restrict("amx", "gemm", dict(rows=48, ntok=16, decode=0, BK=512))  # 3 row tiles: no
    assert i2s_amx.restrict("amx", "gemm", dict(rows=16, ntok=16, decode=0, BK=300))  # not whole groups
    assert i2s_amx.restrict("amx", "gemm", dict(rows=16, ntok=16, decode=1, BK=512))  # fused has no chunk
    assert i2s_amx.restrict("amx", "gemm", dict(rows=32, ntok=32, decode=0, BK=1024)) is None
    assert gen.collect("aarch64") and not [v for v in gen.collect("aarch64") if v.isa == "amx"]


def test_int16_overflow_bound_rejects_long_windows():
    # 4 planes * kunroll lanes of |v| <= 512 summed in int16: kunroll 16 is the last exact one
    assert i2s.restrict("avx2", "gemv", dict(rows=1, kunroll=16, accs=1, prefetch=0)) is None
    why = i2s.restrict("avx2", "gemv", dict(rows=1, kunroll=17, accs=1, prefetch=0))
    assert why and "int16 overflow" in why
    assert "int16 overflow" in i2s.restrict("avx512", "gemv", dict(rows=1, kunroll=32, accs=1, prefetch=0))
    # vpdpbusd accumulates in int32: no int16 window
    assert i2s.restrict("avx512vnni", "gemv", dict(rows=1, kunroll=32, accs=1, prefetch=0, decode=0)) is None


def test_other_restrictions():
    assert "register pressure" in i2s.restrict("avx2", "gemm", dict(rows=4, ntok=4, kunroll=1, accs=1, prefetch=0))
    assert "mask decode" in i2s.restrict("avx2", "gemv", dict(rows=2, kunroll=1, accs=4, decode=1, prefetch=0))
    assert "cache line" in i2s.restrict("avx512vnni", "gemv", dict(rows=2, kunroll=1, accs=1, decode=0, prefetch=100))
    # spread rows: a GEMV of several rows a step only; its variants are generated and named with s1
    assert "spread" in i2s.restrict("avx512vnni", "gemv", dict(rows=1, kunroll=1, accs=1, decode=0, prefetch=0, spread=1))
    assert "spread" in i2s.restrict("avx512vnni", "gemm", dict(rows=4, ntok=1, kunroll=1, accs=1, decode=0, prefetch=0,
                                                               spread=1))
    spread = [v for v in gen.collect("x86_64") if v.t.get("spread")]
    assert spread and all(v.op == "gemv" and v.t["rows"] >= 2 and v.name.endswith("s1") for v in spread)


def test_mask_decode_max_k_bound():
    # per-plane accumulators grow by <= 4*128*128 per 256-weight group
    assert i2s.MASK_DECODE_MAX_K // 256 * 4 * 128 * 128 <= 2 ** 31
    vs = [v for v in gen.collect("x86_64") if dict(v.tiles).get("decode") == 1 and v.isa != "amx"]
    assert vs and all(v.max_k == i2s.MASK_DECODE_MAX_K for v in vs)


def test_variant_check_rejects_bad_rows():
    base = dict(op="gemv", wfmt="i2s", afmt="i8", isa="c", template="x", layout="i2s", ref="r", max_n=1)
    with pytest.raises(RestrictionError):
        Variant(**dict(base, tiles=(("kunroll", 1), ("rows", 1)))).check()   # wrong order
    with pytest.raises(RestrictionError):
        Variant(**dict(base, max_n=0, tiles=tiles_of(dict(rows=1)))).check()  # a GEMV must say max_n = 1
    with pytest.raises(RestrictionError):
        Variant(**dict(base, isa="sse9", tiles=tiles_of(dict(rows=1)))).check()
    with pytest.raises(RestrictionError):
        tiles_of(dict(rows=1, bogus=2))


def test_generation_is_deterministic(tmp_path):
    a, _ = gen.render("x86_64")
    b, _ = gen.render("x86_64")
    assert a == b
    gen.write(tmp_path, a)
    # --check agrees with a fresh render, and detects an edit
    assert gen.main(["--arch", "x86_64", "--out", str(tmp_path), "--check"]) == 0
    f = tmp_path / "variants_table.c"
    f.write_text(f.read_text() + "/* edited */\n")
    assert gen.main(["--arch", "x86_64", "--out", str(tmp_path), "--check"]) == 1


def test_build_output_matches_generator():
    """kernels_generated/ in the work tree is exactly what the generator renders now."""
    out = ROOT / "kernels_generated" / "x86_64"
    if not out.exists():
        pytest.skip("not built yet")
    assert gen.main(["--arch", "x86_64", "--out", str(out), "--check"]) == 0


def test_table_lists_every_variant_in_order(tmp_path):
    # the C table is the one variant list (Python reads it through `tritune list --json`)
    files, vs = gen.render("x86_64")
    assert "variants.json" not in files
    table = files["variants_table.c"]
    assert re.findall(r'\.name = "([^"]+)"', table) == [v.name for v in vs]
    for v in vs:
        assert f'.name = "{v.name}"' in table
        assert f".fn = {v.name}," in table
    assert f"const int tt_n_variants = {len(vs)};" in table


def test_every_layout_has_an_unrestricted_fallback():
    vs = gen.collect("x86_64")
    for lay in {v.layout for v in vs}:
        for op in ("gemv", "gemm"):
            assert any(v.layout == lay and v.op == op and v.m_align == 1 and v.k_align == 1 for v in vs), (lay, op)


def test_isa_flags_match_cmake():
    text = (ROOT / "codegen" / "isa_flags.cmake").read_text()
    for name, isa in ISAS.items():
        if name == "c":
            continue
        m = re.search(r'isa STREQUAL "%s"\)\s*\n\s*set\(ok TRUE\)\s*\n\s*set\(f ([^)]*)\)' % name, text)
        assert m, f"{name} missing from isa_flags.cmake"
        assert tuple(m.group(1).split()) == isa.flags, name


def test_generated_units_compile_with_their_flags_only(tmp_path):
    """An AVX-512 unit must not be compiled with AVX-512 flags missing, and no
    unit uses -march=native."""
    files, _ = gen.render("x86_64")
    cm = files["sources.cmake"]
    assert "march=native" not in cm
    assert "i2s_avx512vnni.c PROPERTIES COMPILE_OPTIONS" in cm and "-mavx512vnni" in cm
    assert "i2s_c.c PROPERTIES" not in cm
