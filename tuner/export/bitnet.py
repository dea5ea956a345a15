"""bitnet.cpp: include/kernel_config.ini (TL1/TL2 tiles per shape).

Format and restrictions (docs/export.md cites the files and commits):
utils/codegen_tl1.py and utils/codegen_tl2.py of microsoft/BitNet write
kernel_config.ini with ConfigParser, one section Kernels_<i> per (M, K):
option 'M', 'K', 'BM', 'BK', 'bmm' (ConfigParser lower-cases option names,
so the file reads m, k, bm, bk, bmm: 'bm' is BM and 'bmm' is the SIMD block
bm).  Their asserts:
    TL1: M % BM == 0, K % BK == 0, bm in {32, 64}
    TL2: M % BM == 0, (K % BK) % 32 == 0, bm in {32}
tritune's TL tiles mean the same: BM rows per tile (the unit of thread
parallelism), BK weights of K per block, bm rows per SIMD compute block.
I2_S's gemm-config.h (ROW_BLOCK_SIZE, COL_BLOCK_SIZE, PARALLEL_SIZE,
ACT_PARALLEL) has no tritune counterpart and is not exported.
"""

import configparser
import io
import json

from .common import Report, atomic_write, entry_name, per_shape, tiles
from .db import KEY, key_of, params

TL_RULES = {
    "tl1": {"bm": (32, 64), "k_rule": "K % BK == 0", "k_ok": lambda K, BK: K % BK == 0},
    "tl2": {"bm": (32,), "k_rule": "(K % BK) % 32 == 0", "k_ok": lambda K, BK: (K % BK) % 32 == 0},
}
SECTION_KEYS = ("m", "k", "bm", "bk", "bmm")   # as ConfigParser writes them in bitnet.cpp


def check(fmt, M, K, t):
    """None if (M, K, BM, BK, bm) satisfies bitnet.cpp's asserts for fmt, else why not."""
    rule = TL_RULES[fmt]
    if not all(k in t for k in ("BM", "BK", "bm")):
        return "the variant has no BM/BK/bm tiles (a generic kernel): nothing to map"
    BM, BK, bm = t["BM"], t["BK"], t["bm"]
    if M % BM:
        return f"M % BM == 0 fails ({M} % {BM} = {M % BM})"
    if not rule["k_ok"](K, BK):
        return f"{rule['k_rule']} fails (K={K}, BK={BK})"
    if bm not in rule["bm"]:
        return f"bm must be in {{{', '.join(map(str, rule['bm']))}}} for {fmt.upper()} (the variant has bm={bm})"
    return None


def render(rows):
    """rows: [(M, K, BM, BK, bm)] -> kernel_config.ini text, written the way bitnet.cpp's codegen writes it."""
    config = configparser.ConfigParser()
    for i, (M, K, BM, BK, bm) in enumerate(rows):
        s = f"Kernels_{i}"
        config.add_section(s)
        for key, v in zip(("M", "K", "BM", "BK", "bmm"), (M, K, BM, BK, bm)):
            config.set(s, key, str(v))
    buf = io.StringIO()
    config.write(buf)
    return buf.getvalue()


def measured_rows(tuned):
    """Every verified, measured row of the last tuning run (kernel_runs.jsonl beside tuned.json), by key."""
    f = tuned.path.parent / "kernel_runs.jsonl"
    rows = {}
    if not f.exists():
        return rows
    for line in f.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("kind") == "kernel" and r.get("status") == "ok" and r.get("verified") is True \
                and r.get("median_ns", 0) > 0 and all(k in r for k in KEY):
            rows.setdefault(key_of(r), []).append(r)
    return rows


def fit(e, fmt, runs):
    """The fastest measured variant of e's key that bitnet.cpp can express, or None."""
    ok = [r for r in runs.get(key_of(e), []) if check(fmt, e["M"], e["K"], params(r.get("params"))) is None]
    return min(ok, key=lambda r: r["median_ns"]) if ok else None


def export(tuned, out, threads=None, fit_expressible=False):
    rep = Report("bitnet")
    chosen = per_shape(tuned, ("tl1", "tl2"), threads, rep)
    runs = measured_rows(tuned) if fit_expressible else {}
    for fmt in ("tl1", "tl2"):
        rows = []
        for e in chosen.get(fmt, []):
            t = tiles(e)
            why = check(fmt, e["M"], e["K"], t)
            alt = fit(e, fmt, runs) if why and fit_expressible else None
            if alt:
                rep.notes.append(f"{entry_name(e)}: the winner cannot be expressed ({why}); exported the fastest "
                                 f"expressible variant measured, {alt['variant']}, "
                                 f"{100 * (alt['median_ns'] / e['best']['median_ns'] - 1):.1f}% slower")
                e = dict(e, best=dict(variant=alt["variant"], params=alt["params"], median_ns=alt["median_ns"]))
                t = tiles(e)
            elif why:
                rep.skip(entry_name(e), why + (" (and no expressible variant was measured for it in "
                                               "kernel_runs.jsonl)" if fit_expressible else
                                               "; --fit exports the fastest expressible variant measured instead"))
                continue
            extra = sorted(set(t) - {"BM", "BK", "bm"})
            if extra:
                rep.notes.append(f"{entry_name(e)}: {', '.join(extra)} has no kernel_config.ini counterpart "
                                 "(bitnet.cpp's kernels do not take it)")
            rows.append((e["M"], e["K"], t["BM"], t["BK"], t["bm"]))
        path = out / fmt / "kernel_config.ini"
        if rows:
            atomic_write(path, render(rows))
            rep.files.append(str(path))
        elif path.exists():   # from an earlier export: it no longer describes this database
            path.unlink()
            rep.notes.append(f"removed {path} (an earlier export; no {fmt.upper()} entry is expressible now)")
    for e in tuned.entries:
        if e["format"] == "i2s":
            rep.skip(entry_name(e), "gemm-config.h (ROW_BLOCK_SIZE, COL_BLOCK_SIZE, PARALLEL_SIZE, ACT_PARALLEL) is "
                                    "one build-wide setting of bitnet.cpp's I2_S loops with no tritune counterpart; "
                                    "tritune does not tune it, so gemm-config.h is not exported")
        elif e["format"] not in ("tl1", "tl2"):
            rep.skip(entry_name(e), f"bitnet.cpp has no per-shape configuration for format {e['format']}")
    if not rep.files:
        rep.notes.append("no entry could be expressed in kernel_config.ini: no file written")
    return rep
