#!/usr/bin/env python3
"""Tuner quality, measured (a benchmark, not a test).

Replays a recorded exhaustive sweep (scripts/fixtures/sweep_2b4t.jsonl.gz,
from scripts/record_sweep.sh: i2s and tl2 GEMV on the BitNet-2B-4T shapes
at 1 and 2 threads, raw samples of 3 interleaved passes) through every
strategy with a simulated runner over 20 seeds, and prints per strategy:
  - measurement time relative to brute force (the min-time asked for by
    the search and the verdict, summed over the keys);
  - the gap of its pick to the exhaustive best, in the exhaustive run's own
    medians (pooled over the recorded passes): median, mean, 95th
    percentile, max, and the share of picks within 2%.

  .venv/bin/python scripts/tuner_quality.py [--fixture F] [--seeds 20] [--strategies race,brute_force,...]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tuner import select as sel  # noqa: E402
from tuner import strategies  # noqa: E402
from tuner.replay import ReplayRunner, Sweep, load_rows  # noqa: E402
from tuner.space import Candidate, Measurer  # noqa: E402

MIN_TIME = 0.05  # the --quick min-time: the units the costs are counted in


def run_strategy(sweep, name, seed, tol=sel.TOL):
    """[(key, pick, cost)] of one strategy over every key of the sweep."""
    mod = strategies.get(name)
    opts = strategies.check_options(mod, {})
    out = []
    for i, key in enumerate(sweep.keys()):
        cands = [Candidate.from_row(r) for r in sweep.candidates_rows(key)]
        m = Measurer(key, cands, ReplayRunner(sweep, seed=seed * 7919 + i), MIN_TIME)
        s = seed * 1000003 + i
        e = sel.verdict(m, mod.search(m, opts, s), tol=tol, seed=s, strategy=name)
        out.append((key, e["winner"], m.cost))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", default=str(ROOT / "scripts" / "fixtures" / "sweep_2b4t.jsonl.gz"))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--strategies", default=",".join(["brute_force", "race", "random", "model"]))
    a = ap.parse_args()
    sweep = Sweep(load_rows(a.fixture))
    names = [s for s in a.strategies.split(",") if s]
    if "brute_force" not in names:
        names.insert(0, "brute_force")
    truth = {k: sweep.exhaustive_medians(k) for k in sweep.keys()}
    best = {k: min(t.values()) for k, t in truth.items()}
    print(f"fixture {a.fixture}: {len(sweep.keys())} keys, "
          f"{sum(len(t) for t in truth.values())} (key, variant) points; {sweep.meta.get('note', '')}")
    print(f"{a.seeds} seeds per strategy; min-time {MIN_TIME} s; measuring time = the time the samples took "
          "(search and verdict, summed over the keys)\n")
    results = {}
    for name in names:
        t0 = time.time()
        costs, gaps = [], []
        for seed in range(1, a.seeds + 1):
            picks = run_strategy(sweep, name, seed)
            costs.append(sum(c for _, _, c in picks))
            gaps += [truth[k][p] / best[k] - 1 if p else float("inf") for k, p, _ in picks]
        results[name] = (statistics.mean(costs), gaps, time.time() - t0)
    bf = results["brute_force"][0]
    print(f"{'strategy':12} {'time vs brute force':>19} {'median gap':>10} {'mean gap':>9} {'p95 gap':>8} "
          f"{'max gap':>8} {'picks within 2%':>15}")
    for name in names:
        cost, gaps, _ = results[name]
        g = sorted(gaps)
        p95 = g[min(len(g) - 1, int(0.95 * len(g)))]
        within = sum(x <= 0.02 for x in g) / len(g)
        print(f"{name:12} {100 * cost / bf:18.1f}% {100 * statistics.median(g):9.2f}% {100 * statistics.mean(g):8.2f}% "
              f"{100 * p95:7.2f}% "
              f"{100 * g[-1]:7.2f}% {100 * within:14.1f}%")
    print("\ngoal: race within 2% of the exhaustive best with at most 25% of brute force's measurement time")


if __name__ == "__main__":
    main()
