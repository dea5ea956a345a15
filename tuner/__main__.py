"""tritune tuning loop (run through ./tune.sh).

check the arguments and the files -> verify every variant -> for every key
(format, op, shape, batch, threads): a strategy searches the candidates
(default race), the finalists are re-measured side by side (the verdict)
-> results/<machine-id>/:
    cache.jsonl        every measurement as it is taken (append-only, with
                       a provenance header): a rerun after a kill resumes
                       and measures nothing twice; --fresh starts over
    tuned.json         per key the winner, its tie group `ties`, the ratio
                       to the runner-up with a bootstrap CI, the rule that
                       broke the tie, the roofline (probe median, spread,
                       flags); merged with earlier runs on this machine
    tuned.tsv          the same choices for the C runtime (tt_tuning_load)
    kernel_runs.jsonl  the context and the kernel rows of this run (without raw samples)
    report/            the report of the folder (tuner/report.py), at the end
tuned.json and tuned.tsv are rewritten (temporary file, then rename, with
SIGINT/SIGTERM held) after every key, so an interrupted run keeps what it
finished.  --model M also tunes the model's prefill batch and ends with
`bench decode` untuned vs tuned.

Exit codes: 0 done, 1 a key could not be measured or no variant passed
verification, 2 bad usage (before any work), 3 environment or files,
130 / 143 interrupted by SIGINT / SIGTERM (what was measured is kept).
"""

import argparse
import datetime
import glob
import hashlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import report
from . import select as sel
from . import strategies, tuned_io
from .cache import Cache, CacheMismatch, cached_request
from .files import atomic_write
from .runner import HarnessError, Runner
from .space import Candidate, Key, Measurer

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "bitnet-b1.58-2b-4t"   # --quick tunes its four BitLinear shapes
DEFAULT_TRITUNE = ROOT / "build" / "bin" / "tritune"
FORMATS = ("i2s", "tl1", "tl2")
# bench decode prefills in chunks of min(P, 256) tokens with P = 64 by default
# (bench/cmd_decode.c); the GEMM dispatch looks a shape up at N = 32 and
# takes the tuned entry of the nearest N (runtime/seam/dispatch.c,
# tuning.c): the one prefill batch tuned here is the one it finds.
DEFAULT_PREFILL_BATCH = 64
TMP_PATTERNS = (".tuned.json.*.tmp", ".tuned.tsv.*.tmp", ".kernel_runs.jsonl.*.tmp", ".cache.jsonl.*.tmp")


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def die(msg, code=2):
    print(f"tune: error: {msg}", file=sys.stderr)
    sys.exit(code)


def warn(msg):
    print(f"tune: warning: {msg}", file=sys.stderr)


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
    if not rows:
        die(f"the harness listed no BitLinear shapes for model {name}", 3)
    return [(r["M"], r["K"]) for r in rows], rows[0]["model"]


def merge_entries(old_entries, new_entries):
    """Entries of earlier runs (already validated) are kept unless this run
    measured the same key.  Returns (entries, kept)."""
    fresh = {sel.key_of(e) for e in new_entries}
    kept = [e for e in old_entries if sel.key_of(e) not in fresh]
    return sorted(kept + new_entries, key=sel.key_of), len(kept)


def parse_list(s, what):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        die(f"--{what} wants a comma-separated list of positive integers, got '{s}'")
    if not v or min(v) <= 0:
        die(f"--{what} wants positive integers, got '{s}'")
    return v


def parse_formats(s):
    fs = [f.strip() for f in s.split(",") if f.strip()]
    bad = [f for f in fs if f not in FORMATS]
    if not fs or bad:
        die(f"--format wants a comma-separated list of {', '.join(FORMATS)}, got '{s}'")
    return list(dict.fromkeys(fs))


def parse_min_time(s):
    try:
        v = float(s)
    except ValueError:
        v = float("nan")
    if not (0.001 <= v <= 600):
        raise argparse.ArgumentTypeError(f"wants seconds in [0.001, 600], got '{s}'")
    return v


def fmt_table(entries):
    """Winners with their tie groups: a tie is printed as a tie."""
    lines = [f"{'fmt':3} {'op':4} {'shape':>10} {'N':>3} {'T':>2}  {'winner':42} {'ties':>4} {'median us':>9} "
             f"{'GB/s':>6} {'%bw':>5}  {'runner-up ratio [95% CI]':26} flags"]
    for e in entries:
        shape = f"{e['M']}x{e['K']}"
        head = f"{e['format']:3} {e['op']:4} {shape:>10} {e['N']:>3} {e['threads']:>2}  "
        b = e.get("best")
        if not b:
            lines.append(head + str(e.get("error")))
            continue
        r = e.get("ratio_to_runner_up")
        rr = "-" if not r else f"{r['ratio']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        if r and len(e["ties"]) > 1 and e.get("runner_up", {}).get("variant") in e["ties"]:
            rr += " tie"
        frac = b.get("bw_fraction")
        flags = []
        if e.get("bw_flag"):
            flags.append("bw: " + e["bw_flag"])
        if e.get("probe_flag"):
            flags.append(e["probe_flag"])
        lines.append(head + f"{b['variant']:42} {len(e['ties']):>4} {b['median_ns'] / 1e3:9.1f} "
                     f"{b['gbps']:6.2f} {'' if frac is None else f'{100 * frac:4.0f}%':>5}  {rr:26} "
                     + ("; ".join(flags)))
        for t in e["ties"]:
            if t != b["variant"]:
                lines.append(f"{'':27}  = {t} (tied)")
    return "\n".join(lines)


def machine_header(ctx, tritune, settings):
    """The cache's provenance: what must be equal for a cached measurement
    to stand for a new one."""
    flags = None
    cc = Path(tritune).resolve().parent.parent / "CMakeCache.txt"
    try:
        vals = dict(l.split("=", 1) for l in cc.read_text().splitlines() if "=" in l and not l.startswith(("#", "//")))
        bt = (ctx.get("build_type") or "").upper()
        flags = " ".join(x for x in (vals.get("CMAKE_C_FLAGS:STRING", ""), vals.get(f"CMAKE_C_FLAGS_{bt}:STRING", ""))
                         if x).strip()
    except (OSError, ValueError):
        pass
    fp = {k: ctx.get(k) for k in ("machine_id", "cpu", "arch", "cores", "logical_cpus", "l1d_bytes", "l2_bytes",
                                  "l3_bytes", "mem_total_bytes")}
    return {"machine": fp, "features": ctx.get("features"), "generator_hash": ctx.get("generator_hash"),
            "compiler": ctx.get("compiler"), "build_type": ctx.get("build_type"), "c_flags": flags,
            "settings": settings}


class Results:
    """results/<machine-id>/: tuned.json, tuned.tsv and kernel_runs.jsonl,
    rewritten together after every key with SIGINT/SIGTERM held."""

    def __init__(self, out_dir, ctx, settings, old_entries):
        self.dir = out_dir
        self.ctx = ctx
        self.settings = settings
        self.old = old_entries
        self.entries = []
        self.krows = []

    def add(self, entry, m):
        self.entries.append(entry)
        for r in m.rows_all:
            self.krows.append({k: v for k, v in r.items() if k != "sample_ns"})

    def write(self, elapsed, measured, reused):
        entries, kept = merge_entries(self.old, self.entries)
        bw = {}
        for e in self.entries:
            if e["bw"]["median_gbps"] and e["cache"] == "streaming":
                bw.setdefault(str(e["threads"]), []).append(e["bw"]["median_gbps"])
        c = self.ctx
        doc = {
            "schema_version": 2,
            "generated_by": "tritune tune.sh",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": {k: c.get(k) for k in ("machine_id", "cpu", "arch", "features", "cores", "logical_cpus",
                                               "l1d_bytes", "l2_bytes", "l3_bytes", "mem_total_bytes", "compiler",
                                               "build_type", "generator_hash", "pinning", "load_avg_1m", "warning")},
            "settings": self.settings,
            "bandwidth_gbps": {t: round(sorted(v)[len(v) // 2], 3) for t, v in bw.items()},
            "statistic": ("per key: the finalists re-measured side by side in interleaved passes; median per-call "
                          "time of the final round's blocks; ratio to the runner-up = geometric mean over paired "
                          "blocks, 95% bootstrap CI; ties: CI low <= 1 + tolerance"),
            "elapsed_s": round(elapsed, 1),
            "requests_measured": measured,
            "requests_from_cache": reused,
            "entries_from_earlier_runs": kept,
            "entries": entries,
        }
        tsv = tuned_io.tsv_text(entries, c.get("machine_id"), c.get("generator_hash"), self.settings["cache"])
        doc["tsv_sha256"] = hashlib.sha256(tsv.encode()).hexdigest()
        runs = "".join(json.dumps(r) + "\n" for r in [dict(c, kind="context")] + self.krows)
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            atomic_write(self.dir / "kernel_runs.jsonl", runs)
            atomic_write(self.dir / "tuned.tsv", tsv)
            atomic_write(self.dir / "tuned.json", json.dumps(doc, indent=1) + "\n")
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return kept


def _on_signal(signum, frame):
    raise Interrupted(signum)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tune.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"the {DEFAULT_MODEL} shapes, i2s, batch 1, 1 thread and all cores (minutes)")
    ap.add_argument("--model", default=None,
                    help=f"model config name in models/dummy or a path (default {DEFAULT_MODEL}): every BitLinear "
                         "shape at batch 1 and the prefill batch, every thread count; ends with bench decode "
                         "untuned vs tuned; ignored with --quick")
    ap.add_argument("--format", default=None, help="weight formats to tune, comma-separated (default: i2s with "
                                                    "--quick, else i2s,tl2)")
    ap.add_argument("--threads", default=None, help="thread counts (default: --quick 1,<cores>; else 1..<cores>)")
    ap.add_argument("--batch", default=None,
                    help=f"batch sizes N (default: --quick 1; else 1 and the prefill batch {DEFAULT_PREFILL_BATCH})")
    ap.add_argument("--cache", default="streaming", choices=["streaming", "warm"],
                    help="cache state the choice is made for (default streaming, as in decode)")
    ap.add_argument("--min-time", type=parse_min_time, default=None,
                    help="seconds per measurement in [0.001, 600] (default 0.05 quick, 0.1)")
    ap.add_argument("--stream-mib", type=int, default=1024, help="rotated weight copies in MiB (default 1024)")
    ap.add_argument("--strategy", default=strategies.DEFAULT,
                    help=f"search strategy: {', '.join(sorted(strategies.STRATEGIES))} (default {strategies.DEFAULT})")
    ap.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                    help="a strategy option (repeatable), e.g. --option tol=0.02")
    ap.add_argument("--tol", type=float, default=sel.TOL,
                    help=f"variants within this ratio of the winner are tied (default {sel.TOL}; why: tuner/select.py)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the strategies and the bootstrap (default 1)")
    ap.add_argument("--results", default=str(ROOT / "results"), help="results directory (default results/)")
    ap.add_argument("--tritune", default=str(DEFAULT_TRITUNE), help="harness binary")
    ap.add_argument("--fresh", action="store_true",
                    help="start over: a new cache, and tuned.json replaced instead of merged into")
    ap.add_argument("--no-decode", action="store_true", help="with --model: skip the bench decode comparison")
    return ap.parse_args(argv)


def main(argv=None):
    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    state = {"runner": None, "cache": None, "keys_done": 0, "out": None}
    try:
        return run(parse_args(argv), state)
    except Interrupted as e:
        print(f"tune: interrupted by {e}: {state['keys_done']} key(s) finished are in "
              f"{state['out'] or 'results/'}; every measurement is in the cache: rerun the same command to resume",
              file=sys.stderr)
        return 128 + e.signum
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if state["runner"]:
            state["runner"].close()
        if state["cache"]:
            state["cache"].close()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def run(a, state):
    # 1. everything the arguments say is checked before any work (exit 2)
    if a.stream_mib <= 0:
        die("--stream-mib wants a positive size")
    if not (0 < a.tol < 0.5):
        die("--tol wants a ratio in (0, 0.5), e.g. 0.01")
    formats = parse_formats(a.format or ("i2s" if a.quick else "i2s,tl2"))
    try:
        strat = strategies.get(a.strategy)
        sopts = strategies.check_options(strat, dict(o.split("=", 1) if "=" in o else (o, "") for o in a.option))
    except ValueError as e:
        die(str(e))
    threads_arg = parse_list(a.threads, "threads") if a.threads else None
    batch_arg = parse_list(a.batch, "batch") if a.batch else None
    if not Path(a.tritune).exists():
        die(f"harness {a.tritune} not found: run scripts/setup.sh", 3)
    min_time = a.min_time if a.min_time is not None else (0.05 if a.quick else 0.1)
    runner = Runner(a.tritune, min_time=min_time, stream_mib=a.stream_mib, cache=a.cache)
    state["runner"] = runner
    t_start = time.time()
    try:
        ctx, info = runner.context()
    except HarnessError as e:
        die(str(e), 3)
    cores = int(info["cores"])
    model_mode = not a.quick
    if a.quick:
        shapes, model = model_shapes(DEFAULT_MODEL, a.tritune)
        model += " (quick set)"
        threads = sorted({1, cores})
        batches = [1]
    else:
        shapes, model = model_shapes(a.model or DEFAULT_MODEL, a.tritune)
        threads = list(range(1, cores + 1))
        batches = [1, DEFAULT_PREFILL_BATCH]
    threads = threads_arg or threads
    batches = batch_arg or batches

    # 2. the files: results writable, tuned.json valid, the cache ours (exit 3), before measuring
    out_dir = Path(a.results) / info["machine_id"]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=out_dir, delete=True).close()
    except OSError as e:
        die(f"results directory {out_dir} is not writable: {e}", 3)
    state["out"] = str(out_dir)
    for pat in TMP_PATTERNS:  # left by a SIGKILL mid-write
        for p in glob.glob(str(out_dir / pat)):
            try:
                os.unlink(p)
            except OSError:
                pass
    try:
        all_variants = runner._run(["list"])
    except HarnessError as e:
        die(str(e), 3)
    known = {r["variant"]: r for r in all_variants if r.get("kind") == "variant" and "variant" in r}
    old_entries = []
    if (out_dir / "tuned.json").exists() and not a.fresh:
        try:
            old_entries = tuned_io.read_json(out_dir / "tuned.json", ctx.get("generator_hash"), known, warn)
        except tuned_io.TunedError as e:
            die(f"{e}: move it away, or pass --fresh to replace it", 3)
    tsv_path = out_dir / "tuned.tsv"
    if old_entries and tsv_path.exists():  # a kill between the two renames leaves them one key apart
        try:
            doc_sha = json.loads((out_dir / "tuned.json").read_text()).get("tsv_sha256")
            if doc_sha and hashlib.sha256(tsv_path.read_bytes()).hexdigest() != doc_sha:
                warn(f"{tsv_path} does not match tuned.json (interrupted between the two writes): both are "
                     "rewritten after the first key")
        except (OSError, ValueError):
            pass
    settings_key = {"stream_mib": a.stream_mib, "seed": a.seed,
                    "harness": "bench kernel --stdin --samples, probe before and after every pass"}
    try:
        cache = Cache(str(out_dir / "cache.jsonl"), machine_header(ctx, a.tritune, settings_key), fresh=a.fresh)
    except CacheMismatch as e:
        die(f"{e}: pass --fresh to start over (the cache is replaced)", 3)
    except OSError as e:
        die(f"cannot open the cache in {out_dir}: {e}", 3)
    state["cache"] = cache
    if cache.cut:
        warn(f"cut a torn last line ({cache.cut} bytes) off {cache.path}: the request it held is measured again")

    print(f"tune: {info['cpu']} ({info['machine_id']}), {cores} core(s), features: {info['features']}",
          file=sys.stderr)
    print(f"tune: model {model}; shapes {', '.join(f'{m}x{k}' for m, k in shapes)}; formats {','.join(formats)}; "
          f"batch {batches}; threads {threads}; cache {a.cache}; min-time {min_time}s; strategy {a.strategy}; "
          f"{cache.loaded} cached request(s)", file=sys.stderr)

    # 3. verify every variant of the formats before anything is timed
    passed = set()
    vsum = {"passed": 0, "failed": [], "skipped": 0}
    for fmt in formats:
        try:
            vrows = runner.verify(f"*_{fmt}_*")
        except HarnessError as e:
            die(str(e), 3)
        for r in vrows:
            if r["status"] == "pass":
                passed.add(r["variant"])
                vsum["passed"] += 1
            elif r["status"] == "FAIL":
                vsum["failed"].append(r["variant"])
                print(f"tune:   FAILED {r['variant']}: {r.get('first_failure')} (it cannot be chosen)",
                      file=sys.stderr)
            else:
                vsum["skipped"] += 1
    print(f"tune: verify: {vsum['passed']} passed, {len(vsum['failed'])} failed, {vsum['skipped']} skipped "
          "(CPU lacks features)", file=sys.stderr)
    if not passed:
        die(f"no {','.join(formats)} variant passed verification on this CPU", 1)

    # 4. the keys, each searched and judged
    keys = [Key("gemv" if n == 1 else "gemm", fmt, m, k, n, t, a.cache)
            for fmt in formats for t in threads for (m, k) in shapes for n in batches]
    settings = {"quick": a.quick, "model": model, "formats": formats, "shapes": [list(s) for s in shapes],
                "batches": batches, "threads": threads, "cache": a.cache, "min_time_s": min_time,
                "stream_mib": a.stream_mib, "strategy": a.strategy, "strategy_options": sopts, "tolerance": a.tol,
                "seed": a.seed, "verify": vsum}
    res = Results(out_dir, ctx, settings, old_entries)
    request = cached_request(cache, runner)
    spent, timed = 0.0, 0
    for i, key in enumerate(keys):
        t0 = time.time()
        hits0 = cache.hits
        cands = [Candidate.from_row(known[v]) for v in sorted(known)
                 if known[v]["op"] == key.op and known[v]["format"] == key.format and v in passed]
        m = Measurer(key, cands, request, min_time)
        try:
            seed = a.seed * 1000003 + i
            finalists = strat.search(m, sopts, seed) if cands else []
            e = sel.verdict(m, finalists, tol=a.tol, seed=seed, strategy=a.strategy)
        except HarnessError as err:
            die(str(err), 3)
        res.add(e, m)
        res.write(time.time() - t_start, cache.misses, cache.hits)
        state["keys_done"] = i + 1
        dt = time.time() - t0
        if cache.hits == hits0 or m.requests == 0:
            spent, timed = spent + dt, timed + 1
        left = len(keys) - i - 1
        eta = f"{(spent / timed) * left / 60:.1f} min left" if timed else "estimating"
        b = e.get("best")
        what = (f"{b['variant']} ({len(e['ties'])} tied), {b['gbps']:.2f} GB/s"
                + (f" {100 * b['bw_fraction']:.0f}% bw" if b.get("bw_fraction") else "")
                + (" [bw flag]" if e.get("bw_flag") else "") + (" [probe flag]" if e.get("probe_flag") else "")
                if b else e.get("error"))
        print(f"[{i + 1}/{len(keys)}] {key.format} {key.op} {key.M}x{key.K} N={key.N} T={key.threads}: {what}; "
              f"{m.requests} request(s), {dt:.0f} s; {eta}", file=sys.stderr, flush=True)
    runner.close()
    elapsed = time.time() - t_start
    kept = res.write(elapsed, cache.misses, cache.hits)
    print(fmt_table(res.entries))
    print(f"\ntie rule: {sel.TIE_RULE}; tolerance {a.tol:.1%}")
    if ctx.get("warning"):
        print(f"WARNING: {ctx['warning']}")
    print(f"measured {cache.misses} request(s), {cache.hits} answered from the cache ({cache.path})")
    print(f"wrote {out_dir / 'tuned.json'} ({len(res.entries)} entries from this run, {kept} kept from earlier "
          f"runs) in {elapsed:.0f} s")
    if model_mode and not a.no_decode:
        from .decode_compare import compare
        compare(a.tritune, a.model or DEFAULT_MODEL, formats, threads, out_dir / "tuned.tsv", ROOT)
    report.after_tuning(out_dir)
    return 1 if any(not e.get("best") for e in res.entries) else 0


if __name__ == "__main__":
    sys.exit(main())
