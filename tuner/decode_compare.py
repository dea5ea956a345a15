"""The end of a whole-model tune: `bench decode` with the generator's prior
(--no-tuning) and with the tuned.tsv just written, side by side."""

import json
import subprocess
import sys


def _decode(tritune, model, fmt, threads, tuning, cwd):
    cmd = [str(tritune), "bench", "decode", "--model", model, "--format", fmt, "--threads", str(threads),
           "--reps", "3", "--json"] + (["--tuning", str(tuning)] if tuning else ["--no-tuning"])
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    rows = {}
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("kind") == "decode" and r.get("status") == "ok":
            rows[r["phase"]] = r
    if p.returncode not in (0, 1) or not rows:
        return None, p.stderr.strip().splitlines()[-1:] or [f"exit {p.returncode}"]
    return rows, None


def compare(tritune, model, formats, threads, tuning, cwd):
    """Prints the table; returns the list of rows compared."""
    print(f"\nbench decode {model}: untuned (the generator's prior) vs tuned ({tuning})", flush=True)
    print(f"{'fmt':4} {'T':>2} {'phase':5} {'untuned tok/s':>13} {'tuned tok/s':>11} {'gain':>7}  {'%bw untuned':>11} "
          f"{'%bw tuned':>9}  tuned variants")
    out = []
    for fmt in formats:
        for t in threads:
            print(f"tune: bench decode {model} {fmt} T={t} ...", file=sys.stderr, flush=True)
            u, ue = _decode(tritune, model, fmt, t, None, cwd)
            v, ve = _decode(tritune, model, fmt, t, tuning, cwd)
            if not u or not v:
                print(f"{fmt:4} {t:>2} bench decode failed: {(ue or ve)[0]}")
                continue
            for ph in ("pp", "tg"):
                if ph not in u or ph not in v:
                    continue
                a, b = u[ph]["tokens_per_s"], v[ph]["tokens_per_s"]
                fa, fb = u[ph].get("bw_fraction"), v[ph].get("bw_fraction")
                pct = (lambda f: f"{100 * f:.0f}%" if isinstance(f, (int, float)) and f > 0 else "-")
                print(f"{fmt:4} {t:>2} {ph:5} {a:13.1f} {b:11.1f} {100 * (b / a - 1):+6.1f}%  {pct(fa):>11} "
                      f"{pct(fb):>9}  {v[ph].get('gemv_variant')} / {v[ph].get('gemm_variant')}")
                out.append({"format": fmt, "threads": t, "phase": ph, "untuned": a, "tuned": b})
    print("(one run each, 3 repetitions: compare on a quiet machine)")
    return out
