#!/usr/bin/env python3
"""Summarize `tritune bench decode --json` output into the papers' table:
tokens/s per model, format and thread count, the speedup over fp16 measured
in the same files, and the fraction of the decode roofline.

    scripts/summarize_decode.py decode.jsonl [...] [--phase tg|pp]
"""
import json
import sys


def main(argv):
    phase = "tg"
    if "--phase" in argv:
        i = argv.index("--phase")
        phase = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if not argv:
        sys.exit(__doc__)
    rows, other = {}, []
    for p in argv:
        for line in open(p):
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("kind") != "decode":
                continue
            if r.get("status") != "ok":
                other.append(r)
                continue
            if r.get("phase") == phase:
                rows[(r["model"], r["threads"], r["format"])] = r
    models = sorted({k[0] for k in rows}, key=lambda m: min(r["params"] for k, r in rows.items() if k[0] == m))
    threads = sorted({k[1] for k in rows})
    formats = [f for f in ("i2s", "tl1", "tl2", "fp16", "fp32") if any(k[2] == f for k in rows)]
    print(f"{phase} tokens/s (median; in brackets: fraction of the decode roofline; x = speedup over fp16)")
    head = f"{'model':22} {'T':>2} " + " ".join(f"{f:>22}" for f in formats)
    print(head)
    for m in models:
        for t in threads:
            cells = []
            fp16 = rows.get((m, t, "fp16"))
            for f in formats:
                r = rows.get((m, t, f))
                if not r:
                    cells.append(f"{'-':>22}")
                    continue
                s = f"{r['tokens_per_s']:.2f} ({100 * r['bw_fraction']:.0f}%)"
                if fp16 and f != "fp16":
                    s += f" {r['tokens_per_s'] / fp16['tokens_per_s']:.2f}x"
                cells.append(f"{s:>22}")
            print(f"{m:22} {t:>2} " + " ".join(cells))
    for r in other:
        print(f"not run: {r.get('model')} {r.get('format')} T={r.get('threads')}: {r.get('status')}: {r.get('error') or r.get('message') or r.get('note', '')}")


if __name__ == "__main__":
    main(sys.argv[1:])
