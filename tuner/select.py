"""The verdict of one key: the finalists re-measured side by side, the tie
group, the ratio to the runner-up with its confidence interval, and the
roofline check of the winner."""

import numpy as np

from . import stats

KEY = ("op", "format", "M", "K", "N", "threads", "cache")

TIE_RULE = ("among the tie group, the fastest by the median of all its measured blocks (every round of "
            "the search and the verdict), then the first by name")
# The default tie tolerance: variants whose paired ratio to the fastest has a
# 95% CI reaching below 1 + TOL are tied.  Measured 2026-12-02 (quiet machine,
# i2s GEMV on the 2B-4T shapes): within one process the top variants of a key
# differ by 0.6-5% and a paired test separates them, yet between three
# `./tune.sh --quick --fresh` runs (each its own process and allocations) the
# same pair's ratio moved by more than that (r2u1a4d1p2048 over r1u1a1d0p2048 at
# 2560x2560, 1 thread: 0.96 in scripts/fixtures/sweep_2b4t.jsonl.gz, 1.15 and
# 1.13 in two of the runs), so with a 1% tolerance a run's winner was outside
# another run's tie group for 5 of the 8 keys.
TOL = 0.03
PROBE_SPREAD_MAX = 0.10   # a row whose probes spread more than this is flagged
BW_ABOVE_MAX = 1.05       # a kernel reading more than 5% above its probe is flagged


def key_of(row):
    return tuple(row[k] for k in KEY)


def probe_summary(probes):
    """Median, spread ((max - min) / median) and count of the probe GB/s."""
    g = [p["gbps"] for p in probes if isinstance(p.get("gbps"), (int, float)) and p["gbps"] > 0]
    if not g:
        return {"median_gbps": None, "spread": None, "probes": 0, "strategy": None}
    med = float(np.median(g))
    strat = [p.get("strategy") for p in probes if p.get("strategy")]
    return {"median_gbps": round(med, 3), "spread": round((max(g) - min(g)) / med, 4), "probes": len(g),
            "min_gbps": round(min(g), 3), "max_gbps": round(max(g), 3),
            "strategy": max(set(strat), key=strat.count) if strat else None}


def bw_flags(fraction, bw, cache):
    """(bw_flag, probe_flag): a reason when the kernel reads more than 5%
    above its probe, and when the probe itself was unsteady."""
    probe_flag = None
    if bw["spread"] is not None and bw["spread"] > PROBE_SPREAD_MAX:
        probe_flag = (f"probe unsteady: {bw['probes']} probes of this key spread {100 * bw['spread']:.0f}% "
                      f"({bw['min_gbps']:.1f}-{bw['max_gbps']:.1f} GB/s): the machine was busy; rerun quiet")
    bw_flag = None
    if fraction is not None and fraction > BW_ABOVE_MAX:
        if probe_flag:
            why = "the probe was unsteady (see probe_flag), so the roofline is uncertain"
        elif cache == "warm":
            why = "warm: the weights are cache-resident and the probe of their size under-reads the cache"
        else:
            why = (f"the kernel streams faster than the best probe loop ({bw['strategy']}): "
                   "the probe is below the real read limit here")
        bw_flag = f"reads {100 * fraction:.0f}% of the probe: {why}"
    return bw_flag, probe_flag


def _summary(m, v, blocks):
    row = m.rows[v]
    allv = np.concatenate([np.asarray(b, dtype=float) for b in blocks.values()])
    med = stats.pooled_median(blocks)
    wb = row.get("weight_bytes") or 0
    out = {k: row[k] for k in ("variant", "isa", "layout", "params", "verified") if k in row}
    out.update({"median_ns": round(med, 1), "p25_ns": round(float(np.percentile(allv, 25)), 1),
                "p75_ns": round(float(np.percentile(allv, 75)), 1), "samples": int(allv.size),
                "blocks": len(blocks), "weight_bytes": wb,
                "gbps": round(wb / med, 4) if med > 0 else None,
                "gweights_per_s": round(m.key.M * m.key.K / med, 4) if med > 0 else None})
    return out


def verdict(m, finalists, tol=TOL, passes=3, time_scale=0.4, seed=0, strategy=None):
    """Re-measure the finalists side by side (round "final") and judge from
    that round alone.  Returns the tuned.json entry of the key."""
    e = dict(zip(KEY, m.key))
    e["strategy"] = strategy
    finalists = [v for v in finalists if v not in m.failed]
    if len(finalists) == 1:  # a runner-up to compare with, when there is one
        others = stats.rank({v: b for v, b in m.blocks.items() if v not in m.failed and v not in finalists})
        finalists += others[:1]
    if finalists:
        m.measure(finalists, "final", passes=passes, time_scale=time_scale)
    fb = {v: {k: s for k, s in m.blocks.get(v, {}).items() if k[0] == "final"} for v in finalists}
    fb = {v: b for v, b in fb.items() if b and v not in m.failed}
    e["candidates"] = len(m.candidates)
    e["measured"] = len(m.blocks)
    e["verify_failed"] = sum(1 for f in m.failed.values() if f["status"] == "verify_failed")
    e["rejected"] = sum(1 for f in m.failed.values() if f["status"] != "verify_failed")
    e["cost_s"] = round(m.cost, 3)
    bw = probe_summary(m.probes)
    e["bw"] = bw
    if not fb:
        e.update(best=None, winner=None, ties=[], runner_up=None, ratio_to_runner_up=None, tie_break=None,
                 bw_flag=None, probe_flag=None, error="no verified variant could be measured for this shape")
        return e
    ranked = stats.rank(fb)
    fastest = ranked[0]
    rat = {v: stats.ratio(fb[fastest], fb[v], seed=stats.seed_of(seed, "final", v)) for v in ranked[1:]}
    ties = [fastest] + [v for v in ranked[1:] if rat[v].lo <= 1 + tol]
    winner = min(ties, key=lambda v: (stats.pooled_median(m.blocks[v]), v))
    ties = sorted(ties)
    runner = next((v for v in ranked if v != winner), None)
    e["winner"] = winner
    e["ties"] = ties
    e["tie_break"] = TIE_RULE if len(ties) > 1 else None
    e["tolerance"] = tol
    e["best"] = _summary(m, winner, fb[winner])
    e["runner_up"] = _summary(m, runner, fb[runner]) if runner else None
    r = stats.ratio(fb[winner], fb[runner], seed=stats.seed_of(seed, "runner", runner)) if runner else None
    e["ratio_to_runner_up"] = dict(r.as_dict(), bootstrap="paired blocks (round, pass), samples within blocks") \
        if r else None
    # schema 1's fields, for readers of older tuned.json: the runner-up's excess time and whether the CI excludes 0
    e["margin"] = round(r.point - 1, 5) if r else None
    e["margin_exceeds_spread"] = bool(r.lo > 1) if r else None
    frac = None
    if bw["median_gbps"] and e["best"]["gbps"]:
        frac = e["best"]["gbps"] / bw["median_gbps"]
    e["best"]["bw_gbps"] = bw["median_gbps"]
    e["best"]["bw_fraction"] = round(frac, 4) if frac is not None else None
    e["bw_flag"], e["probe_flag"] = bw_flags(frac, bw, m.key.cache)
    return e
