"""A simulated runner that replays a recorded sweep (kernel rows with raw
samples, several passes each, and the probe rows), for the tests and for
scripts/tuner_quality.py: no hardware, deterministic for a seed.

A request for variants at a key answers, for every pass and variant, one
of the variant's recorded blocks chosen at random, its samples resampled
(with replacement) in proportion to the min-time asked for (at least
min_samples, as the harness takes); probes are recorded probe rows of the key."""

import gzip
import json
import random

import numpy as np

from . import stats
from .space import Key


def load_rows(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(l) for l in f if l.strip()]


def key_of_row(r):
    return Key(r["op"], r["format"], r["M"], r["K"], r["N"], r["threads"], r["cache"])


class Sweep:
    """The recorded rows by key: blocks, kernel rows, probes, variant rows."""

    def __init__(self, rows):
        self.meta = next((r for r in rows if r.get("kind") == "fixture_meta"), {})
        self.blocks = {}   # key -> variant -> [samples of one pass, ...]
        self.row = {}      # key -> variant -> a kernel row (ok)
        self.failed = {}   # key -> variant -> row (not ok)
        self.probes = {}   # (M, K, N, threads, cache, format) -> [probe rows]
        self.min_time = 0.03
        fmt = None
        for r in rows:
            kind = r.get("kind")
            if kind == "context":
                fmt = None
            if kind == "kernel":
                k = key_of_row(r)
                fmt = r["format"]
                if r.get("status") == "ok" and r.get("verified") is True:
                    s = r.get("sample_ns") or [r["median_ns"]]
                    self.blocks.setdefault(k, {}).setdefault(r["variant"], []).append([float(x) for x in s])
                    self.row.setdefault(k, {})[r["variant"]] = r
                else:
                    self.failed.setdefault(k, {})[r["variant"]] = r
            elif kind == "probe":
                self.probes.setdefault((r["M"], r["K"], r["N"], r["threads"], r["cache"]), []).append(r)

    def keys(self):
        return sorted(self.row)

    def exhaustive_medians(self, key):
        """Each variant's pooled median over every recorded pass: the truth
        the strategies' picks are judged against."""
        return {v: stats.pooled_median({i: b for i, b in enumerate(bs)}) for v, bs in self.blocks[key].items()}

    def candidates_rows(self, key):
        """Variant-table-like rows of the key's candidates (from its kernel rows)."""
        out = []
        for v, r in sorted({**self.row.get(key, {}), **self.failed.get(key, {})}.items()):
            out.append({"variant": v, "op": r["op"], "format": r["format"], "isa": r["isa"], "layout": r["layout"],
                        "params": r["params"]})
        return out


class ReplayRunner:
    """request(key, variants, round, passes, min_time, min_samples) over a Sweep."""

    def __init__(self, sweep, seed=0):
        self.sweep = sweep
        self.seed = seed
        self.calls = []

    def __call__(self, key, variants, rnd, passes, min_time, min_samples=10):
        self.calls.append((tuple(key), str(rnd), tuple(variants), passes, min_time))
        rng = random.Random(stats.seed_of(self.seed, key, rnd, ",".join(variants), passes, min_time))
        nprng = np.random.default_rng(rng.getrandbits(32))
        krows = []
        for p in range(passes):
            for v in variants:
                if v in self.sweep.failed.get(key, {}):
                    krows.append(dict(self.sweep.failed[key][v], **{"pass": p}))
                    continue
                block = rng.choice(self.sweep.blocks[key][v])
                n = max(min_samples, int(round(len(block) * min_time / self.sweep.min_time)))
                s = nprng.choice(np.asarray(block), size=n, replace=True)
                r = dict(self.sweep.row[key][v])
                calls = max(1, round(r.get("reps", n) / max(1, r.get("samples", n))))  # calls per sample
                r.update({"pass": p, "sample_ns": [int(x) for x in s], "median_ns": float(np.median(s)),
                          "samples": n, "reps": n * calls})
                krows.append(r)
        pr = self.sweep.probes.get((key.M, key.K, key.N, key.threads, key.cache), [])
        prows = [rng.choice(pr) for _ in range(min(2, len(pr)))] if pr else []
        return krows, prows
