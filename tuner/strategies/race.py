"""Racing (successive halving with an F-race style test).

Round 0 measures every candidate once, briefly (first_time x min-time, at
least first_samples samples: a slow variant shows itself in 2), and the
fastest `keep` of them (by median; too few samples for a test) go on.
Each later round re-measures the survivors side by side in `passes`
interleaved passes (A B C, then C B A, ... in changing order: the harness
rotates and reverses the order every pass) and drops every survivor that a
paired bootstrap test on the raw samples shows slower than the leader (CI
of its ratio to the leader entirely above 1 + tol); of the others, at most
half go on after a round (by ratio to the leader), but never fewer than
`finalists`, so that variants the data cannot tell apart reach the verdict
together and its tie group is not cut short by rank alone (measured
2026-12-02: with 3 finalists and halving to 2, three --quick runs agreed on
2 of 8 keys, every tie group had 2 members, and the winners differed only in
prefetch distance).  The race still ends after max_rounds.  It stops when one remains, when every survivor is tied
with the leader within `tol` (CI of the ratio inside 1 +- tol), or after
max_rounds.  The survivors are the finalists."""

import math

from .. import stats

OPTIONS = {
    "first_time": (0.06, "round 0: min-time fraction per candidate"),
    "first_samples": (2, "round 0: at least this many samples per candidate"),
    "keep": (0.12, "round 0: at most this fraction of the candidates survives (at least `finalists`)"),
    "round_time": (0.15, "later rounds: min-time fraction per candidate and pass"),
    "passes": (2, "later rounds: interleaved passes"),
    "tol": (0.03, "survivors within this ratio of the leader are tied (the verdict's default tolerance, see "
                  "tuner/select.py)"),
    "max_rounds": (4, "rounds after round 0"),
    "finalists": (5, "at most this many go to the verdict; a round keeps at least this many not shown slower"),
}


def _order(m, alive, seed, rnd):
    """Survivors fastest first with each one's ratio to the leader."""
    blocks = {v: m.blocks[v] for v in alive if v in m.blocks}
    ranked = stats.rank(blocks)
    lead = ranked[0]
    rat = {v: stats.ratio(blocks[lead], blocks[v], seed=stats.seed_of(seed, rnd, v)) for v in ranked[1:]}
    ranked = [lead] + sorted(ranked[1:], key=lambda v: (rat[v].point, v))
    return ranked, rat


def search(m, options, seed):
    o = options
    m.measure(m.alive(), 0, passes=1, time_scale=o["first_time"], min_samples=o["first_samples"])
    alive = [v for v in m.alive() if v in m.blocks]
    if len(alive) < 2:
        return alive
    alive = stats.rank({v: m.blocks[v] for v in alive})[:max(o["finalists"], math.ceil(len(alive) * o["keep"]))]
    for rnd in range(1, o["max_rounds"] + 1):
        if len(alive) < 2:
            break
        m.measure(alive, rnd, passes=o["passes"], time_scale=o["round_time"])
        alive = [v for v in alive if v in m.blocks and v not in m.failed]
        if len(alive) < 2:
            break
        ranked, rat = _order(m, alive, seed, rnd)
        if all(rat[v].hi <= 1 + o["tol"] and rat[v].lo >= 1 - o["tol"] for v in ranked[1:]):
            alive = ranked
            break
        kept = [ranked[0]] + [v for v in ranked[1:] if rat[v].lo <= 1 + o["tol"]]
        alive = kept[:max(o["finalists"], math.ceil(len(ranked) / 2))]
    return alive[:o["finalists"]] if len(alive) > 1 else alive
