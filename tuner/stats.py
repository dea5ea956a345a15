"""Paired comparisons of kernel timings.

A measurement of one variant is a *block*: the samples (per-call ns) of one
harness pass, identified by (round, pass).  Within a request the harness
measures its variants pass after pass in changing order, so the blocks of
two variants with the same (round, pass) were taken minutes apart at most
and under the same conditions: they are the pairs.

ratio(a, b) estimates how much slower b is than a: the geometric mean over
the common blocks of median(b) / median(a), with a bootstrap confidence
interval that resamples the raw samples within each block and the blocks
themselves (so both the noise within a pass and the drift between passes
widen it).  With one common block only the first applies.
"""

import math
import zlib

import numpy as np

N_BOOT = 400
CI = 0.95


def block_medians(blocks):
    """{(round, pass): median ns} of one variant's blocks."""
    return {k: float(np.median(v)) for k, v in blocks.items()}


def seed_of(*parts):
    """A deterministic seed from strings (a rerun draws the same bootstrap)."""
    return zlib.crc32("\x00".join(map(str, parts)).encode())


def _boot_medians(samples, rng, n_boot):
    x = np.asarray(samples, dtype=float)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    return np.median(x[idx], axis=1)


class Ratio:
    """b / a over the common blocks: point estimate, CI and the pair count."""

    __slots__ = ("point", "lo", "hi", "pairs")

    def __init__(self, point, lo, hi, pairs):
        self.point, self.lo, self.hi, self.pairs = point, lo, hi, pairs

    def as_dict(self):
        return {"ratio": round(self.point, 5), "ci_low": round(self.lo, 5), "ci_high": round(self.hi, 5),
                "ci": CI, "pairs": self.pairs}

    def __repr__(self):
        return f"Ratio({self.point:.4f} [{self.lo:.4f}, {self.hi:.4f}] n={self.pairs})"


def ratio(a_blocks, b_blocks, seed=0, n_boot=N_BOOT):
    """Ratio of b to a (> 1: b is slower) over their common blocks, or None
    when they share none.  a_blocks / b_blocks: {(round, pass): [ns, ...]}."""
    common = sorted(set(a_blocks) & set(b_blocks))
    if not common:
        return None
    rng = np.random.default_rng(seed)
    logs = np.empty((len(common), n_boot))
    point = []
    for i, k in enumerate(common):
        a, b = a_blocks[k], b_blocks[k]
        point.append(math.log(np.median(b) / np.median(a)))
        logs[i] = np.log(_boot_medians(b, rng, n_boot) / _boot_medians(a, rng, n_boot))
    if len(common) > 1:  # resample the blocks too
        pick = rng.integers(0, len(common), size=(n_boot, len(common)))
        stat = logs[pick, np.arange(n_boot)[:, None]].mean(axis=1)
    else:
        stat = logs[0]
    alpha = (1 - CI) / 2
    lo, hi = np.quantile(stat, [alpha, 1 - alpha])
    return Ratio(math.exp(sum(point) / len(point)), math.exp(lo), math.exp(hi), len(common))


def pooled_median(blocks):
    """A variant's typical per-call ns: the median of its block medians."""
    return float(np.median([np.median(v) for v in blocks.values()])) if blocks else float("inf")


def rank(blocks_by_variant, keys=None):
    """Variants ordered fastest first by pooled median over `keys` blocks
    (all when None); ties broken by name (deterministic)."""
    def med(v):
        b = blocks_by_variant[v]
        if keys is not None:
            b = {k: x for k, x in b.items() if k in keys}
        return pooled_median(b)
    return sorted(blocks_by_variant, key=lambda v: (med(v), v))
