#!/usr/bin/env python3
"""Summarize `tritune bench kernel --json` output: the best verified variant
per (format, op, shape, N, threads, cache), with GB/s, Gweights/s, the
bandwidth probe of the same run and the fraction reached.

    build/bin/tritune bench kernel ... --json > runs.jsonl
    scripts/summarize_kernels.py runs.jsonl [more.jsonl ...]
"""
import json
import sys


def main(paths):
    best, ctx = {}, None
    for p in paths:
        for line in open(p):
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("kind") == "context":
                ctx = ctx or r
                continue
            if r.get("kind") != "kernel" or r.get("status") != "ok" or not r.get("verified"):
                continue
            k = (r["cache"], r["M"], r["K"], r["N"], r["threads"], r["format"], r["op"])
            if k not in best or r["median_ns"] < best[k]["median_ns"]:
                best[k] = r
    if ctx:
        print(f"# {ctx.get('cpu')} ({ctx.get('machine_id')}), {ctx.get('date')}, build {ctx.get('build_type')}, "
              f"pinning {ctx.get('pinning')}, load {ctx.get('load_avg_1m')}")
    print(f"{'cache':9} {'shape':>11} {'N':>3} {'T':>2} {'fmt':4} {'best variant':44} {'median us':>10} "
          f"{'IQR%':>5} {'GB/s':>6} {'Gw/s':>6} {'GOPS':>7} {'probe':>6} {'%bw':>5}")
    for k in sorted(best):
        r = best[k]
        iqr = 100 * (r["p75_ns"] - r["p25_ns"]) / r["median_ns"]
        print(f"{r['cache']:9} {str(r['M']) + 'x' + str(r['K']):>11} {r['N']:>3} {r['threads']:>2} {r['format']:4} "
              f"{r['variant']:44} {r['median_ns'] / 1e3:10.1f} {iqr:5.1f} {r['gbps']:6.2f} {r['gweights_per_s']:6.1f} "
              f"{r['gops']:7.1f} {r['bw_gbps']:6.1f} {100 * r['bw_fraction']:4.0f}%")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
