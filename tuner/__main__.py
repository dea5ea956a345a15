"""tritune tuning loop (run through ./tune.sh).

verify -> measure every runnable variant (strategy) -> select the best per
shape, batch and thread count -> write results/<machine-id>/:
    tuned.json         best variant per key with its figures, the runner-up
                       margin and the machine fingerprint (schema_version 1);
                       merged with earlier runs on this machine (--fresh replaces)
    tuned.tsv          the same choices for the C runtime (tt_tuning_load)
    kernel_runs.jsonl  every record the harness printed (context + rows)
Files are written to a temporary name and renamed: never half-written.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import report
from . import select as sel
from . import strategies
from .runner import HarnessError, Runner

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "bitnet-b1.58-2b-4t"   # --quick tunes its four BitLinear shapes
DEFAULT_TRITUNE = ROOT / "build" / "bin" / "tritune"


def die(msg, code=2):
    print(f"tune: error: {msg}", file=sys.stderr)
    sys.exit(code)


def model_shapes(name, tritune=DEFAULT_TRITUNE):
    """(M, K) of every distinct BitLinear of a model, in the order of its
    tensors, and the model's name.  The harness reads them off its walk over
    the model's tensors (`tritune list --model NAME --shapes --json`), so a
    model's shapes have one definition.  NAME is a config path or a name in
    models/dummy (dots allowed: bitnet-b1.58-2b-4t).  A bad model exits with
    the harness's message and exit code (2)."""
    p = Path(name)
    arg = str(p.resolve()) if p.exists() else name  # a path from here; a name from the repository
    try:
        rows = Runner(tritune).model_shapes(arg, cwd=ROOT)
    except HarnessError as e:
        print(e.stderr or str(e), file=sys.stderr)
        sys.exit(e.rc if e.rc in (2, 3) else 3)
    except OSError as e:
        die(f"cannot run the harness {tritune}: {e}", 3)
    if not rows:
        die(f"the harness listed no BitLinear shapes for model {name}", 3)
    return [(r["M"], r["K"]) for r in rows], rows[0]["model"]


def atomic_write(path, text):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def merge_entries(old_doc, new_entries, generator_hash):
    """The tuned database accumulates: entries of an earlier run on this
    machine are kept unless this run measured the same key (op, format, M,
    K, N, threads, cache).  Entries from another generator (their variant
    names may not exist any more) are dropped.  Returns (entries, kept, note)."""
    if not old_doc:
        return new_entries, 0, None
    if old_doc.get("machine", {}).get("generator_hash") != generator_hash:
        return new_entries, 0, "earlier tuned.json came from another generator: its entries were dropped"
    fresh = {sel.key_of(e) for e in new_entries}
    kept = [e for e in old_doc.get("entries", []) if sel.key_of(e) not in fresh]
    merged = sorted(kept + new_entries, key=sel.key_of)
    return merged, len(kept), None


def parse_list(s, what):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        die(f"--{what} wants a comma-separated list of positive integers, got '{s}'")
    if not v or min(v) <= 0:
        die(f"--{what} wants positive integers, got '{s}'")
    return v


def fmt_table(entries):
    lines = [f"{'op':4} {'shape':>10} {'N':>3} {'T':>2}  {'best variant':40} {'median us':>9} {'GB/s':>6} "
             f"{'Gw/s':>6} {'%bw':>5}  {'runner-up margin':>16}"]
    for e in entries:
        b = e["best"]
        shape = f"{e['M']}x{e['K']}"
        if not b:
            lines.append(f"{e['op']:4} {shape:>10} {e['N']:>3} {e['threads']:>2}  {e.get('error')}")
            continue
        margin = "-" if e.get("margin") is None else f"{100 * e['margin']:.1f}%" + \
            ("" if e.get("margin_exceeds_spread") else " (within spread)")
        lines.append(f"{e['op']:4} {shape:>10} {e['N']:>3} {e['threads']:>2}  {b['variant']:40} "
                     f"{b['median_ns'] / 1e3:9.1f} {b['gbps']:6.2f} {b['gweights_per_s']:6.2f} "
                     f"{100 * b['bw_fraction']:4.0f}%  {margin:>16}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tune.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"the {DEFAULT_MODEL} shapes, batch 1, 1 thread and all cores (minutes)")
    ap.add_argument("--model", default=None,
                    help=f"model config name in models/dummy or a path (default {DEFAULT_MODEL}); ignored with --quick")
    ap.add_argument("--format", default="i2s", help="weight format to tune (default i2s)")
    ap.add_argument("--threads", default=None, help="thread counts (default: --quick 1,<cores>; else 1..<cores>)")
    ap.add_argument("--batch", default="1", help="batch sizes N (default 1)")
    ap.add_argument("--cache", default="streaming", choices=["streaming", "warm"],
                    help="cache state the choice is made for (default streaming, as in decode)")
    ap.add_argument("--min-time", type=float, default=None, help="seconds per measurement (default 0.05 quick, 0.2)")
    ap.add_argument("--stream-mib", type=int, default=1024, help="rotated weight copies in MiB (default 1024)")
    ap.add_argument("--strategy", default="brute_force", help="search strategy (default brute_force)")
    ap.add_argument("--results", default=str(ROOT / "results"), help="results directory (default results/)")
    ap.add_argument("--tritune", default=str(DEFAULT_TRITUNE), help="harness binary")
    ap.add_argument("--fresh", action="store_true",
                    help="replace results/<machine>/tuned.json instead of merging this run into it")
    a = ap.parse_args(argv)

    if not Path(a.tritune).exists():
        die(f"harness {a.tritune} not found: run scripts/setup.sh", 3)
    if a.min_time is not None and not (0 < a.min_time <= 600):
        die("--min-time wants seconds in (0, 600]")
    if a.stream_mib <= 0:
        die("--stream-mib wants a positive size")
    try:
        strat = strategies.get(a.strategy)
        sopts = strategies.check_options(strat, {})
    except ValueError as e:
        die(str(e))
    min_time = a.min_time if a.min_time is not None else (0.05 if a.quick else 0.2)
    runner = Runner(a.tritune, min_time=min_time, stream_mib=a.stream_mib, cache=a.cache)
    t_start = time.time()
    try:
        ctx, info = runner.context()
    except HarnessError as e:
        die(str(e), 3)
    cores = int(info["cores"])
    if a.quick:
        shapes, model = model_shapes(DEFAULT_MODEL, a.tritune)
        model += " (quick set)"
        threads = sorted({1, cores})
    else:
        shapes, model = model_shapes(a.model or DEFAULT_MODEL, a.tritune)
        threads = list(range(1, cores + 1))
    if a.threads:
        threads = parse_list(a.threads, "threads")
    batches = parse_list(a.batch, "batch")

    # the results directory must be writable before we spend minutes measuring
    out_dir = Path(a.results) / info["machine_id"]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, delete=True)
        probe.close()
    except OSError as e:
        die(f"results directory {out_dir} is not writable: {e}", 3)

    print(f"tune: {info['cpu']} ({info['machine_id']}), {cores} core(s), features: {info['features']}", file=sys.stderr)
    print(f"tune: model {model}; shapes {', '.join(f'{m}x{k}' for m, k in shapes)}; batch {batches}; "
          f"threads {threads}; cache {a.cache}; min-time {min_time}s", file=sys.stderr)

    # 1. verify every runnable variant of the format before anything is timed
    try:
        vrows = runner.verify(f"*_{a.format}_*")
    except HarnessError as e:
        die(str(e), 3)
    npass = sum(r["status"] == "pass" for r in vrows)
    nfail = [r for r in vrows if r["status"] == "FAIL"]
    nskip = sum(r["status"] == "skipped" for r in vrows)
    print(f"tune: verify: {npass} passed, {len(nfail)} failed, {nskip} skipped (CPU lacks features)", file=sys.stderr)
    for r in nfail:
        print(f"tune:   FAILED {r['variant']}: {r.get('first_failure')} (it cannot be chosen)", file=sys.stderr)
    if npass == 0:
        die(f"no {a.format} variant passed verification on this CPU", 1)

    # 2. measure
    runnable = [v for v in runner.variants(a.format) if v["runnable"]]
    per_point = {op: sum(v["op"] == op for v in runnable) for op in ("gemv", "gemm")}
    total = sum(per_point["gemv" if n == 1 else "gemm"] for n in batches) * len(shapes) * len(threads)
    done = [0]
    best = {}
    tty = sys.stderr.isatty()

    def on_row(r):
        if r.get("kind") != "kernel":
            return
        done[0] += 1
        k = sel.key_of(r)
        if sel.eligible(r) and (k not in best or r["gbps"] > best[k]):
            best[k] = r["gbps"]
        el = time.time() - t_start
        msg = (f"[{done[0]}/{total}] {r['M']}x{r['K']} N={r['N']} T={r['threads']} {r['variant']}: "
               + (f"{r['gbps']:.2f} GB/s ({100 * r['bw_fraction']:.0f}% bw), best {best.get(k, 0):.2f}"
                  if r.get("status") == "ok" else r.get("status")) + f"  [{el:.0f}s]")
        if tty:
            print("\r\033[K" + msg, end="", file=sys.stderr, flush=True)
        elif done[0] % 25 == 0 or done[0] == total or r.get("status") != "ok":
            print(msg, file=sys.stderr, flush=True)

    space = {"format": a.format, "shapes": shapes, "batches": batches, "threads": threads}
    try:
        rows = strat.tune(space, runner, sopts, on_row=on_row)
    except HarnessError as e:
        die(str(e), 3)
    if tty:
        print(file=sys.stderr)
    kctx = next((r for r in rows if r["kind"] == "context"), ctx)
    run_entries = sel.select(rows)
    old_doc = None
    if (out_dir / "tuned.json").exists() and not a.fresh:
        try:
            old_doc = json.loads((out_dir / "tuned.json").read_text())
        except (OSError, ValueError) as e:
            print(f"tune: warning: ignoring unreadable {out_dir / 'tuned.json'}: {e}", file=sys.stderr)
    entries, kept, note = merge_entries(old_doc, run_entries, kctx.get("generator_hash"))
    if note:
        print(f"tune: {note}", file=sys.stderr)
    bandwidth = {}
    for r in rows:
        if r.get("kind") == "kernel" and r.get("bw_gbps"):
            bandwidth[str(r["threads"])] = r["bw_gbps"]

    elapsed = time.time() - t_start
    doc = {
        "schema_version": 1,
        "generated_by": "tritune tune.sh",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {k: kctx.get(k) for k in ("machine_id", "cpu", "arch", "features", "cores", "logical_cpus",
                                            "l1d_bytes", "l2_bytes", "l3_bytes", "mem_total_bytes", "compiler",
                                            "build_type", "generator_hash", "pinning", "load_avg_1m", "warning")},
        "settings": {"quick": a.quick, "model": model, "format": a.format, "shapes": [list(s) for s in shapes],
                     "batches": batches, "threads": threads, "cache": a.cache, "min_time_s": min_time,
                     "stream_mib": a.stream_mib, "strategy": a.strategy,
                     "statistic": "median per-call time over samples of >= 200 us; spread p25/p75, cv"},
        "bandwidth_gbps": bandwidth,
        "verify": {"passed": npass, "failed": [r["variant"] for r in nfail], "skipped": nskip},
        "elapsed_s": round(elapsed, 1),
        "entries_from_earlier_runs": kept,
        "entries": entries,
    }
    tsv = ["# tritune tuned configuration: op fmt M K N threads variant",
           f"# machine {info['machine_id']} generator {kctx.get('generator_hash')} cache {a.cache}"]
    for e in entries:
        if e["best"]:
            tsv.append(f"{e['op']} {e['format']} {e['M']} {e['K']} {e['N']} {e['threads']} {e['best']['variant']}")
    try:
        atomic_write(out_dir / "kernel_runs.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        atomic_write(out_dir / "tuned.tsv", "\n".join(tsv) + "\n")
        atomic_write(out_dir / "tuned.json", json.dumps(doc, indent=1) + "\n")
    except OSError as e:
        die(f"cannot write results to {out_dir}: {e}", 3)

    print(fmt_table(run_entries))
    bw = ", ".join(f"{t} thread(s) {g:.1f} GB/s" for t, g in sorted(bandwidth.items(), key=lambda x: int(x[0])))
    print(f"\nread bandwidth probe ({a.cache}): {bw}")
    if kctx.get("warning"):
        print(f"WARNING: {kctx['warning']}")
    print(f"wrote {out_dir / 'tuned.json'} ({len(run_entries)} entries from this run, {kept} kept from earlier runs)"
          f" in {elapsed:.0f} s")
    report.after_tuning(out_dir)
    missing = [e for e in run_entries if not e["best"]]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
