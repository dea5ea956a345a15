#!/usr/bin/env python3
"""Compare the tuned.json of several runs: per key, each run's winner and
tie group, and whether they agree (the winners are identical, or each
run's winner lies in every other run's tie group).  Also lists every
printed bandwidth fraction above 1.10 and whether it carries a flag.

  .venv/bin/python scripts/compare_tuned.py RUN1/tuned.json RUN2/tuned.json ...
Exit 0 when every key agrees and no fraction above 1.10 is unflagged, else 1."""

import json
import sys

KEY = ("format", "op", "M", "K", "N", "threads", "cache")


def main(paths):
    docs = [json.load(open(p)) for p in paths]
    runs = [{tuple(e[k] for k in KEY): e for e in d["entries"]} for d in docs]
    keys = sorted(set().union(*runs))
    ok = True
    print(f"{'key':34} " + " ".join(f"{'run ' + str(i + 1) + ' winner (ties)':48}" for i in range(len(runs)))
          + " agree")
    for k in keys:
        es = [r.get(k) for r in runs]
        cells, wins = [], []
        for e in es:
            if not e or not e.get("best"):
                cells.append("-")
                continue
            w = e.get("winner") or e["best"]["variant"]
            wins.append((w, set(e.get("ties") or [w])))
            cells.append(f"{w} ({len(e.get('ties') or [w])})")
        agree = len(wins) == len(es) and all(w == wins[0][0] for w, _ in wins) or \
            all(w in t for w, _ in wins for _, t in wins)
        ok &= agree
        name = f"{k[0]} {k[1]} {k[2]}x{k[3]} N={k[4]} T={k[5]}"
        print(f"{name:34} " + " ".join(f"{c:48}" for c in cells) + (" yes" if agree else " NO"))
    print()
    for i, r in enumerate(runs):
        for k, e in sorted(r.items()):
            b = e.get("best") or {}
            f = b.get("bw_fraction")
            if f is not None and f > 1.10:
                flagged = bool(e.get("bw_flag"))
                ok &= flagged
                print(f"run {i + 1} {k}: {100 * f:.0f}% of the probe: "
                      + (f"flagged: {e['bw_flag']}" if flagged else "NOT FLAGGED"))
        bw = {e["threads"]: e.get("bw", {}) for e in r.values()}
        for t, b in sorted(bw.items()):
            if b.get("median_gbps"):
                print(f"run {i + 1} probe at {t} thread(s), last key: median {b['median_gbps']:.1f} GB/s, "
                      f"spread {100 * b['spread']:.0f}% over {b['probes']} probes ({b.get('strategy')})")
    print("\nall keys agree, no unflagged fraction above 1.10" if ok else "\nSOME KEYS DISAGREE OR A FRACTION IS UNFLAGGED")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
