"""T-MAC: kcfg.ini, one section per kernel shape.

Format (docs/export.md cites microsoft/T-MAC deploy/compile.py and the
tuned kcfg.ini files it ships): section qgemm_lut_t1_int8_m<M*b>_k<K>_n<N>_b<b>
with options bm, simd_n_in, simd_n_out, kfactor, group_size, lut_scales_size,
scales_size, n_tile_num.  T-MAC counts rows per bit plane: a b-bit weight
matrix of M rows is M*b rows, tiled by bm, so n_tile_num = M*b / bm.

What maps from tritune (TL1/TL2 LUT kernels; b = 2, BitNet's setting in T-MAC):
    bm          = BM * b      (BM: tritune's rows per tile, the unit of thread parallelism)
    n_tile_num  = M / BM
    scales_size = 1           (one weight scale per tensor, as T-MAC's BitNet configurations)
    lut_scales_size = N       (one activation scale per token: T-MAC's act_group_size = K)
What does not: simd_n_in, simd_n_out, kfactor, group_size are knobs of
T-MAC's own TVM schedule with no tritune counterpart; they are left out and
named in the file's header comment and the export report.
"""

import configparser
import io

from .common import Report, atomic_write, entry_name, tiles

BITS = 2
UNEXPRESSED = ("simd_n_in", "simd_n_out", "kfactor", "group_size")


def section(M, K, N):
    return f"qgemm_lut_t1_int8_m{M * BITS}_k{K}_n{N}_b{BITS}"


def values(e):
    """(section, {option: value}) for a TL entry, or (None, why not)."""
    t = tiles(e)
    if "BM" not in t:
        return None, "the variant has no BM row tile (a generic kernel): nothing to map"
    M, BM = e["M"], t["BM"]
    if M % BM:
        return None, f"n_tile_num = M / BM is not whole ({M} / {BM}); T-MAC tiles all rows"
    return section(M, e["K"], e["N"]), {"bm": BM * BITS, "lut_scales_size": e["N"], "scales_size": 1,
                                         "n_tile_num": M // BM}


def render(sections, machine_id, threads):
    config = configparser.ConfigParser()
    for name, opts in sections:
        config[name] = {k: str(v) for k, v in opts.items()}
    buf = io.StringIO()
    buf.write(f"# T-MAC kernel configuration exported by tritune from machine {machine_id} ({threads} thread(s)).\n"
              f"# Not expressible from tritune (fill in from T-MAC's own tuning): {', '.join(UNEXPRESSED)}.\n\n")
    config.write(buf)
    return buf.getvalue()


def export(tuned, out, threads=None):
    rep = Report("tmac")
    tl = [e for e in tuned.entries if e["format"] in ("tl1", "tl2")]
    if threads is None and tl:
        threads = max(e["threads"] for e in tl)
    sections = {}
    for e in tuned.entries:
        if e["format"] not in ("tl1", "tl2"):
            rep.skip(entry_name(e), "T-MAC configures lookup-table kernels only; tritune's "
                                    f"{e['format']} kernels have no kcfg.ini counterpart")
            continue
        if e["threads"] != threads:
            rep.skip(entry_name(e), f"kcfg.ini has no thread count; the {threads}-thread entries were exported")
            continue
        name, opts = values(e)
        if name is None:
            rep.skip(entry_name(e), opts)
            continue
        if name in sections:   # TL1 and TL2 (or two cache states) for one shape: one section only
            rep.skip(entry_name(e), f"section [{name}] already exported from {sections[name][1]}")
            continue
        sections[name] = (opts, entry_name(e))
    if sections:
        path = out / "kcfg.ini"
        atomic_write(path, render([(n, o) for n, (o, _) in sorted(sections.items())], tuned.machine_id, threads))
        rep.files.append(str(path))
        rep.notes.append(f"every section lacks {', '.join(UNEXPRESSED)} (no tritune counterpart)")
    else:
        rep.notes.append("no entry could be expressed in kcfg.ini: no file written")
        if (out / "kcfg.ini").exists():   # from an earlier export: it no longer describes this database
            (out / "kcfg.ini").unlink()
            rep.notes.append(f"removed {out / 'kcfg.ini'} (an earlier export)")
    return rep
