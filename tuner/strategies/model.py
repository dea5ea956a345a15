"""Model-based search over the tile parameters with Optuna's TPE sampler
(a maintained library; the spaces of a generator with more parameters are
too large to race exhaustively).

Each parameter of the candidates (isa, rows, kunroll, prefetch, BM, BK, ...)
is a categorical dimension with the values the candidates have.  A trial's
suggestion is mapped to the candidate that differs from it in the fewest
parameters (ties by name) among those not measured yet, which is measured
once at the full min-time; the trial is told its median.
`budget` is the fraction of the candidates measured; the fastest few go to
the verdict."""

import math

from .. import stats

OPTIONS = {"budget": (0.25, "fraction of the candidates measured"),
           "finalists": (3, "candidates passed to the verdict"),
           "startup": (5, "random trials before the model is used")}


def _nearest(cands, want):
    def dist(c):
        return sum(c.params.get(k) != v for k, v in want.items()) + \
            sum(1 for k in c.params if k not in want)
    return min(cands, key=lambda c: (dist(c), c.name))


def search(m, options, seed):
    import optuna  # imported here: the other strategies do not need it
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cands = [c for c in m.candidates if c.name not in m.failed]
    if not cands:
        return []
    dims = {}
    for c in cands:
        for k, v in c.params.items():
            dims.setdefault(k, set()).add(v)
    dims = {k: sorted(v, key=str) for k, v in dims.items() if len(v) > 1}
    budget = max(2, min(len(cands), math.ceil(len(cands) * options["budget"])))
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=options["startup"])
    study = optuna.create_study(direction="minimize", sampler=sampler)
    measured = {}
    trials = 0
    while len(measured) < budget and trials < 4 * budget:
        t = study.ask()
        want = {k: t.suggest_categorical(k, vals) for k, vals in dims.items()}
        c = _nearest([c for c in cands if c.name not in measured], want)
        r = m.measure([c.name], f"model-{len(measured)}", passes=1)
        measured[c.name] = r.get(c.name, float("inf"))
        study.tell(t, measured[c.name] if math.isfinite(measured[c.name]) else 1e18)
        trials += 1
    return stats.rank({v: m.blocks[v] for v in measured if v in m.blocks})[:options["finalists"]]
