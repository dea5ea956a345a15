"""A random subset of the candidates (a fraction `budget`), each once at the
full min-time; the fastest few go to the verdict.  A baseline for the
others: any search should beat it."""

import math
import random

from .. import stats

OPTIONS = {"budget": (0.25, "fraction of the candidates measured"),
           "finalists": (3, "candidates passed to the verdict")}


def search(m, options, seed):
    alive = m.alive()
    k = max(2, math.ceil(len(alive) * options["budget"]))
    pick = sorted(random.Random(seed).sample(alive, min(k, len(alive))))
    m.measure(pick, "random", passes=1)
    return stats.rank({v: m.blocks[v] for v in m.alive() if v in m.blocks})[:options["finalists"]]
