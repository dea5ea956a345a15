"""tritune report: the papers' tables and figures from one results folder.

    scripts/report.sh [results/<machine-id>]      (default: this machine's folder)
    .venv/bin/python -m tuner.report [results/<machine-id>] [--out DIR]

Reads the JSON lines the harness and the tuner wrote in results/<machine-id>/:
    kernel_runs.jsonl       the last tuning run (./tune.sh): context + kernel rows
    tuned.json              the tuner's choices (entries, runner-up, ties when present)
    decode_runs.jsonl       decode sweeps (scripts/sweep_papers.sh)
    bench_decode_*.jsonl    decode sweeps (scripts/bench_decode.sh)
    bench_kernels_*.jsonl   kernel sweeps (scripts/bench_kernels.sh)
and writes results/<machine-id>/report/:
    index.md                the machine, then every table and figure below
    decode_tg.csv, decode_pp.csv   tokens/s per model, threads and format, speed-up
                            over fp16 and fp32 (OpenBLAS), fraction of the decode roofline
    energy.csv              J/token and the reduction against fp16 (where measured)
    tuning.csv              per tuned key: the winner, its tile parameters, runner-up, ties
    tokens_vs_size.{png,svg}   tg tokens/s against parameters per format (log axes)
    roofline.{png,svg}      every kernel row's GOPS against the bandwidth and compute probes
    tuning_<op>_<M>x<K>_N<N>_<cache>.{png,svg}   per shape: the best GB/s reached with each
                            value of each tile parameter, per thread count
Numbers that were not measured (energy, counters) are reported as such, with
the reason the harness gave; nothing is estimated.  The report folder is
written to a temporary name and renamed: never half-written.
"""

import argparse
import csv
import datetime
import json
import math
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from .files import current_umask

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("i2s", "tl1", "tl2", "fp16", "fp32")
TERNARY = ("i2s", "tl1", "tl2")


class ReportError(Exception):
    """Bad input: a missing folder or an unreadable results file."""


# ---- reading -------------------------------------------------------------------------------
def read_jsonl(path):
    """The records of one JSON-lines file; a malformed line is an error naming it."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                raise ReportError(f"{path}:{n}: not a JSON line ({e})") from None
    return rows


def rows_of(data, files):
    """(file, record) of every row in files; the context records go to data["contexts"]."""
    for p in files:
        data["files"].append(p.name)
        for r in read_jsonl(p):
            if r.get("kind") == "context":
                data["contexts"].append(r)
            else:
                yield p, r


def load(folder):
    """Everything the report draws from, as dicts of lists."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such results folder (run ./tune.sh or scripts/sweep_papers.sh first)")
    data = {"folder": folder, "contexts": [], "kernels": [], "tuning_rows": [], "decode": [], "files": [],
            "tuned": None}
    decode_files = sorted(folder.glob("bench_decode_*.jsonl"))
    if (folder / "decode_runs.jsonl").exists():
        decode_files.append(folder / "decode_runs.jsonl")  # the newest sweep: its rows win
    kernel_files = sorted(folder.glob("bench_kernels_*.jsonl"))
    if (folder / "kernel_runs.jsonl").exists():
        kernel_files.append(folder / "kernel_runs.jsonl")
    latest = {}
    for p, r in rows_of(data, decode_files):
        if r.get("kind") == "decode":
            key = (r.get("model"), r.get("format"), r.get("threads"), r.get("phase"), r.get("lm_head"),
                   r.get("kv_cache"), r.get("status"))
            latest[key] = r
    data["decode"] = list(latest.values())
    for p, r in rows_of(data, kernel_files):
        if r.get("kind") == "kernel":
            data["kernels"].append(r)
            if p.name == "kernel_runs.jsonl":
                data["tuning_rows"].append(r)
    if (folder / "tuned.json").exists():
        data["files"].append("tuned.json")
        try:
            data["tuned"] = json.loads((folder / "tuned.json").read_text())
        except ValueError as e:
            raise ReportError(f"{folder / 'tuned.json'}: not JSON ({e})") from None
    if not data["files"]:
        raise ReportError(f"{folder}: no results files (kernel_runs.jsonl, tuned.json, decode_runs.jsonl, "
                          "bench_*.jsonl)")
    return data


# ---- small helpers ---------------------------------------------------------------------------
def ok(r):
    return r.get("status") == "ok"


def paper_row(r):
    """A row of the papers' tables: measured, with the LM head in fp16 as the papers keep it
    (runs with --lm-head i8|q4 go to their own table, never beside the fp16-head rows)."""
    return ok(r) and not quantized_head(r)


def quantized_head(r):
    """The LM head stored below the model's float format (fp16 models and the fp32 baseline keep theirs)."""
    return r.get("lm_head") not in (None, "fp16", "fp32")


def num(v, fmt="{:.2f}", none="-"):
    return none if v is None or (isinstance(v, float) and not math.isfinite(v)) else fmt.format(v)


def pct(v, fmt="{:.0f}%"):
    return num(None if v is None else 100 * v, fmt)


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def params_of(s):
    """'rows=2,kunroll=1' -> {'rows': '2', 'kunroll': '1'}"""
    out = {}
    for kv in (s or "").split(","):
        if "=" in kv:
            k, v = kv.split("=", 1)
            out[k] = v
    return out


def model_params(rows, model):
    return min((r.get("params") or 0) for r in rows if r.get("model") == model)


# ---- the machine ------------------------------------------------------------------------------
def machine_section(data):
    ctx = data["contexts"][-1] if data["contexts"] else {}
    tuned = data["tuned"] or {}
    m = dict(tuned.get("machine") or {})
    for k, v in ctx.items():
        m.setdefault(k, v)
    blas = [c for c in data["contexts"] if c.get("openblas_core")]  # the newest context that names the core
    for k in ("openblas_core", "openblas_threads", "openblas_note"):
        m[k] = blas[-1].get(k) if blas else None
    mib = lambda k: num((m.get(k) or 0) / 2**20, "{:.1f} MiB")
    bw = defaultdict(list)
    for r in data["kernels"]:
        if ok(r) and r.get("cache") == "streaming" and r.get("bw_gbps"):
            bw[r["threads"]].append(r["bw_gbps"])
    for r in data["decode"]:
        if ok(r) and r.get("bw_gbps"):
            bw[r["threads"]].append(r["bw_gbps"])
    bws = ", ".join(f"{t} thread(s) {sorted(v)[len(v) // 2]:.1f} GB/s" for t, v in sorted(bw.items())) or "not probed"
    energy = next((r for r in data["decode"] + data["kernels"] if r.get("energy_method")), None)
    no_energy = next((r.get("energy_unavailable") for r in data["decode"] + data["kernels"]
                      if r.get("energy_unavailable")), None)
    ctr = next((r.get("counters_unavailable") for r in data["decode"] + data["kernels"] if "counters_unavailable" in r),
               "not recorded")
    rows = [
        ("CPU", f"{m.get('cpu', '?')} ({m.get('arch', '?')}), machine id `{m.get('machine_id', '?')}`"),
        ("ISA features", m.get("features") or "-"),
        ("cores", f"{m.get('cores', '?')} ({m.get('logical_cpus', '?')} logical CPUs)"),
        ("caches", f"L1d {num((m.get('l1d_bytes') or 0) / 1024, '{:.0f} KiB')}, L2 {num((m.get('l2_bytes') or 0) / 1024, '{:.0f} KiB')}, "
                   f"L3 {mib('l3_bytes')}"),
        ("memory", num((m.get("mem_total_bytes") or 0) / 2**30, "{:.1f} GiB")),
        ("read bandwidth (probe, 1 GiB)", bws),
        ("compiler, build", f"gcc {m.get('compiler', '?')}, {m.get('build_type', '?')}, pinning {m.get('pinning', '?')}"),
        ("generator", m.get("generator_hash") or "-"),
        ("fp32 baseline (OpenBLAS)", f"core {m.get('openblas_core') or 'not recorded'}, "
                                     f"{m.get('openblas_threads') or '?'} thread(s) by default"
                                     + (f"; {m['openblas_note']}" if m.get("openblas_note") else "")),
        ("energy", f"{energy['energy_method']} ({energy['energy_domain']})" if energy
         else f"not measured here: {no_energy or 'no row recorded energy'}"),
        ("hardware counters", "all events counted" if ctr is None else "not recorded in these files"
         if ctr == "not recorded" else f"not all measured here: {ctr}"),
    ]
    groups = defaultdict(list)  # "machine busy (other processes used 1.8 CPUs ...)": one line per kind
    for c in data["contexts"]:
        if c.get("warning"):
            groups[c["warning"].split(" (")[0]].append(c["warning"])
    text = md_table(["", ""], rows)
    if groups:
        text += "\n\n" + "\n".join(
            f"> **warning** (from the harness, {len(ws)} of {len(data['contexts'])} runs): {ws[-1]}"
            for _, ws in sorted(groups.items()))
    return text


# ---- decode: the papers' table ---------------------------------------------------------------
def decode_table(data, phase):
    rows = [r for r in data["decode"] if paper_row(r) and r.get("phase") == phase]
    by = {(r["model"], r["threads"], r["format"]): r for r in rows}
    models = sorted({r["model"] for r in rows}, key=lambda m: model_params(rows, m))
    out = []
    for mdl in models:
        for t in sorted({k[1] for k in by if k[0] == mdl}):
            fp16, fp32 = by.get((mdl, t, "fp16")), by.get((mdl, t, "fp32"))
            for f in FORMATS:
                r = by.get((mdl, t, f))
                if not r:
                    continue
                tps = r["tokens_per_s"]
                out.append({
                    "model": mdl, "params_b": (r.get("params") or 0) / 1e9, "threads": t, "format": f,
                    "test": r.get("test") or f"{phase}{r.get('tokens')}", "tokens_per_s": tps,
                    "iqr": (r["tokens_per_s_p75"] - r["tokens_per_s_p25"]) / tps if tps else None,
                    "speedup_fp16": tps / fp16["tokens_per_s"] if fp16 and f != "fp16" else None,
                    "speedup_fp32": tps / fp32["tokens_per_s"] if fp32 and f != "fp32" else None,
                    "roofline_fraction": r.get("bw_fraction"), "joules_per_token": r.get("joules_per_token"),
                    "lm_head": r.get("lm_head"), "stable": r.get("stable"),
                })
    return out


DECODE_HEAD = ["model", "params (B)", "threads", "format", "test", "tokens/s", "IQR", "x fp16", "x fp32 (OpenBLAS)",
               "% roofline", "J/token"]


def decode_cells(d):
    return [d["model"], f"{d['params_b']:.3g}", d["threads"], d["format"], d["test"],
            num(d["tokens_per_s"]) + ("" if d["stable"] is not False else " (unstable)"),
            pct(d["iqr"], "{:.1f}%"), num(d["speedup_fp16"], "{:.2f}x"),
            num(d["speedup_fp32"], "{:.2f}x"), pct(d["roofline_fraction"]),
            num(d["joules_per_token"], "{:.4g}")]


def decode_csv_rows(table):
    keys = ["model", "params_b", "threads", "format", "test", "tokens_per_s", "iqr", "speedup_fp16", "speedup_fp32",
            "roofline_fraction", "joules_per_token", "lm_head", "stable"]
    return keys, [[d[k] for k in keys] for d in table]


def baseline_check(data):
    """The fp16 baseline should stream at the read bandwidth: its tg fraction of the roofline."""
    rows = [r for r in data["decode"] if ok(r) and r.get("format") == "fp16" and r.get("phase") == "tg"
            and r.get("bw_fraction") is not None]
    if not rows:
        return "No fp16 tg row with a bandwidth probe: the baseline's streaming rate was not checked."
    lines = [f"- {r['model']}, {r['threads']} thread(s): {100 * r['bw_fraction']:.0f}% of the read bandwidth"
             + ("" if r["bw_fraction"] >= 0.8 else " — **below 80%: speed-ups over this baseline overstate**")
             for r in sorted(rows, key=lambda r: (r.get("params") or 0, r["threads"]))]
    return "The fp16 baseline streams its weights (tg); its fraction of the read-bandwidth roofline:\n\n" + "\n".join(lines)


def failed_runs(data):
    bad = [r for r in data["decode"] if not ok(r)]
    if not bad:
        return ""
    return "\n\nNot run (as the harness reported):\n\n" + "\n".join(
        f"- {r.get('model')} {r.get('format')} {r.get('threads')} thread(s): {r.get('status')}: {r.get('error', '')}"
        for r in bad)


HEAD_HEAD = ["model", "threads", "format", "LM head", "test", "tokens/s", "x fp16 head", "% roofline", "top-1",
             "mean KL", "max |diff| / range"]


def head_section(data):
    """Quantized LM heads (--lm-head i8|q4) against the fp16 head of the same model, format and threads."""
    tg = [r for r in data["decode"] if ok(r) and r.get("phase") == "tg"]
    fp16 = {(r["model"], r["threads"], r["format"]): r for r in tg if not quantized_head(r)}
    rows = []
    for r in sorted((r for r in tg if quantized_head(r)),
                    key=lambda r: (r["model"], r["threads"], r["format"], r["lm_head"])):
        base = fp16.get((r["model"], r["threads"], r["format"]))
        rows.append([r["model"], r["threads"], r["format"], r["lm_head"], r.get("test") or "tg",
                     num(r["tokens_per_s"]), num(r["tokens_per_s"] / base["tokens_per_s"], "{:.2f}x") if base else "-",
                     num(r.get("bw_fraction"), "{:.0%}"), num(r.get("head_top1"), "{:.1%}"),
                     num(r.get("head_kl"), "{:.3g}"), num(r.get("head_max_rel_diff"), "{:.3g}")])
    if not rows:
        return ""
    return ("### Quantized LM heads\n\nRuns with `--lm-head i8|q4`, beside the fp16 head of the same model, format "
            "and threads; accuracy against the fp16 head over a greedy generation (docs/decode.md).\n\n"
            + md_table(HEAD_HEAD, rows) + "\n")


# ---- energy ----------------------------------------------------------------------------------
def energy_table(data):
    rows = [r for r in data["decode"] if paper_row(r) and r.get("joules_per_token") is not None]
    if not rows:
        why = next((r.get("energy_unavailable") for r in data["decode"] if r.get("energy_unavailable")), None)
        return None, "Energy: **not measured here**" + (f" ({why})." if why else " (no decode row recorded energy).")
    by = {(r["model"], r["threads"], r["phase"], r["format"]): r for r in rows}
    out = []
    for (mdl, t, ph, f), r in sorted(by.items(), key=lambda kv: (kv[1].get("params") or 0, kv[0][1], kv[0][2],
                                                               FORMATS.index(kv[0][3]) if kv[0][3] in FORMATS else 9)):
        base = by.get((mdl, t, ph, "fp16"))
        red = 1 - r["joules_per_token"] / base["joules_per_token"] if base and f != "fp16" and base["joules_per_token"] else None
        out.append([mdl, t, r.get("test") or ph, f, r["joules_per_token"], red, r.get("joules_per_token_above_idle"),
                    r.get("idle_watts"), r.get("energy_method"), r.get("energy_domain")])
    return out, None


ENERGY_HEAD = ["model", "threads", "test", "format", "J/token", "reduction vs fp16", "J/token above idle", "idle W",
               "method", "domain"]


# ---- figures ---------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "tritune", "figure.dpi": 100})
    return plt


def save(fig, out, name):
    fig.tight_layout()
    fig.savefig(out / f"{name}.png")
    fig.savefig(out / f"{name}.svg", metadata={"Date": None})
    _plt().close(fig)
    return [f"{name}.png", f"{name}.svg"]


def fig_tokens_vs_size(data, out):
    rows = [r for r in data["decode"] if paper_row(r) and r.get("phase") == "tg" and r.get("params")]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    threads = sorted({r["threads"] for r in rows})
    styles = {t: ("-" if t == max(threads) else "--" if t == min(threads) else ":") for t in threads}
    colors = dict(zip(FORMATS, ("C0", "C1", "C2", "C3", "C4")))
    for f in FORMATS:
        for t in threads:
            pts = sorted((r["params"], r["tokens_per_s"]) for r in rows if r["format"] == f and r["threads"] == t)
            if pts:
                ax.plot([p / 1e9 for p, _ in pts], [v for _, v in pts], styles[t], marker="o", color=colors[f],
                        label=f"{f}, {t} thread(s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (billions)")
    ax.set_ylabel("tg tokens/s (median)")
    ax.set_title("Generation speed against model size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return save(fig, out, "tokens_vs_size")


def fig_roofline(data, out):
    rows = [r for r in data["kernels"] if ok(r) and r.get("gops") and r.get("weight_bytes")]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ai = lambda r: 2.0 * r["M"] * r["K"] * r["N"] / r["weight_bytes"]  # int8 ops per byte of weights
    xs = [ai(r) for r in rows]
    lo, hi = min(xs) / 4, max(xs) * 4
    threads = sorted({r["threads"] for r in rows})
    for i, t in enumerate(threads):
        c = f"C{i}"
        for cache, mk in (("streaming", "o"), ("warm", "^")):
            pts = [(ai(r), r["gops"]) for r in rows if r["threads"] == t and r.get("cache") == cache]
            if pts:
                ax.scatter([p for p, _ in pts], [g for _, g in pts], s=10, marker=mk, color=c, alpha=0.5,
                           label=f"{cache} kernels, {t} thread(s)")
        bws = sorted(r["bw_gbps"] for r in rows if r["threads"] == t and r.get("cache") == "streaming" and r.get("bw_gbps"))
        if bws:
            bw = bws[len(bws) // 2]
            ax.plot([lo, hi], [bw * lo, bw * hi], "-", color=c, lw=1, label=f"read bandwidth {bw:.1f} GB/s, {t} thread(s)")
        peaks = {(r.get("peak_isa"), r["peak_gops"]) for r in rows if r["threads"] == t and r.get("peak_gops")}
        for isa, pk in sorted(peaks, key=lambda p: p[1])[-2:]:
            ax.axhline(pk, color=c, ls="--", lw=1)
            ax.annotate(f"{isa} peak {pk:.0f} GOPS ({t}T)", (lo, pk), fontsize=6, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (int8 ops per byte of weights)")
    ax.set_ylabel("GOPS (2 M K N / time)")
    ax.set_title("Roofline: kernels against the bandwidth and compute probes")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    return save(fig, out, "roofline")


def tuning_keys(rows):
    keys = defaultdict(list)
    for r in rows:
        if ok(r) and r.get("gbps"):
            keys[(r["op"], r["M"], r["K"], r["N"], r["cache"])].append(r)
    return keys


def fig_tuning(key, rows, out):
    """Per tile parameter: the best GB/s reached with each of its values, per thread count."""
    op, M, K, N, cache = key
    names = []
    for r in rows:
        for k in params_of(r.get("params")):
            if k not in names:
                names.append(k)
    names = ["isa"] + names
    threads = sorted({r["threads"] for r in rows})
    plt = _plt()
    fig, axes = plt.subplots(len(threads), len(names), figsize=(2.2 * len(names), 2.4 * len(threads)), squeeze=False)
    for i, t in enumerate(threads):
        rt = [r for r in rows if r["threads"] == t]
        best = max(r["gbps"] for r in rt)
        win = max(rt, key=lambda r: r["gbps"])
        wp = dict(params_of(win.get("params")), isa=win["isa"])
        for j, p in enumerate(names):
            ax = axes[i][j]
            vals = defaultdict(float)
            for r in rt:
                v = r["isa"] if p == "isa" else params_of(r.get("params")).get(p, "-")
                vals[v] = max(vals[v], r["gbps"])
            ks = sorted(vals, key=lambda v: (len(v), v))
            ax.bar(range(len(ks)), [vals[k] / best for k in ks],
                   color=["C3" if k == wp.get(p) else "C0" for k in ks])
            ax.set_xticks(range(len(ks)))
            ax.set_xticklabels(ks, rotation=45 if p == "isa" else 0, fontsize=6, ha="right" if p == "isa" else "center")
            ax.set_ylim(0, 1.05)
            ax.tick_params(axis="y", labelsize=6)
            ax.set_title(f"{p} ({t}T)", fontsize=7)
    fig.suptitle(f"{op} {M}x{K} N={N} {cache}: best GB/s per parameter value, relative to the best (red: the winner's)",
                 fontsize=8)
    return save(fig, out, f"tuning_{op}_{M}x{K}_N{N}_{cache}")


def tie_names(entry):
    ties = entry.get("ties")
    if ties is None:
        return None
    return [t if isinstance(t, str) else (t.get("variant") or json.dumps(t)) for t in ties]


def tuning_table(data):
    tuned = data["tuned"] or {}
    out = []
    for e in tuned.get("entries", []):
        b, ru = e.get("best") or {}, e.get("runner_up") or {}
        ties = tie_names(e)
        if ties is None:  # an older tuned.json: the runner-up, when its margin is within the spread
            ties_txt = ("(no ties list) runner-up within the spread: " + ru.get("variant", "?")
                        if e.get("margin_exceeds_spread") is False and ru else "(no ties list)")
        else:
            ties_txt = ", ".join(ties) if ties else "none"
        out.append([e.get("op"), f"{e.get('M')}x{e.get('K')}", e.get("N"), e.get("threads"), e.get("cache"),
                    b.get("variant", "none verified"), b.get("params", ""), num(b.get("gbps")),
                    pct(b.get("bw_fraction")), ru.get("variant", "-"),
                    pct(e.get("margin"), "{:.1f}%"), ties_txt])
    return out


TUNING_HEAD = ["op", "shape", "N", "threads", "cache", "best", "tile parameters", "GB/s", "% bw", "runner-up", "margin",
               "ties"]


# ---- the report ------------------------------------------------------------------------------
def build(data, out):
    """Write every file into out (a fresh folder); returns index.md's text."""
    md = []
    m = (data["tuned"] or {}).get("machine") or (data["contexts"][-1] if data["contexts"] else {})
    md.append(f"# tritune report: {m.get('cpu', '?')} (`{m.get('machine_id', data['folder'].name)}`)\n")
    md.append(f"Written {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')} by "
              f"`scripts/report.sh` from {', '.join(f'`{f}`' for f in data['files'])}. Timings are medians; "
              "compare ratios measured in one run.\n")
    md.append("## Machine\n\n" + machine_section(data) + "\n")

    for phase, title in (("tg", "Generation (tg): the papers' decode table"), ("pp", "Prefill (pp)")):
        table = decode_table(data, phase)
        md.append(f"## {title}\n")
        if not table:
            md.append(f"No {phase} rows recorded here: run `scripts/sweep_papers.sh` (or `tritune bench decode ... "
                      "--json >> results/<machine-id>/decode_runs.jsonl`).\n")
            continue
        keys, rows = decode_csv_rows(table)
        write_csv(out / f"decode_{phase}.csv", keys, rows)
        md.append("tokens/s: median over repetitions; x fp16 / x fp32: speed-up over the baselines at the same model "
                  "and thread count; % roofline: GB/s needed per token x tokens/s over the read-bandwidth probe "
                  f"(docs/decode.md). CSV: [decode_{phase}.csv](decode_{phase}.csv).\n")
        md.append(md_table(DECODE_HEAD, [decode_cells(d) for d in table]) + "\n")
        if phase == "tg":
            md.append(baseline_check(data) + failed_runs(data) + "\n")
            md.append(head_section(data))

    md.append("## Energy\n")
    erows, why = energy_table(data)
    if erows is None:
        md.append(why + " No number is estimated in its place (docs/energy.md).\n")
    else:
        write_csv(out / "energy.csv", ENERGY_HEAD, erows)
        md.append("Package energy over the timed repetitions / tokens (docs/energy.md); reduction = 1 - J/token / "
                  "fp16's J/token at the same model, threads and test. CSV: [energy.csv](energy.csv).\n")
        md.append(md_table(ENERGY_HEAD, [[r[0], r[1], r[2], r[3], num(r[4], "{:.4g}"),
                                          pct(r[5], "{:.1f}%"),
                                          num(r[6], "{:.4g}"), num(r[7], "{:.1f}"), r[8], r[9]] for r in erows]) + "\n")

    md.append("## Figures\n")
    figs = [("tokens_vs_size", fig_tokens_vs_size(data, out),
             "tg tokens/s against model size per format (solid: most threads, dashed: 1 thread), log axes"),
            ("roofline", fig_roofline(data, out),
             "every measured kernel: GOPS against arithmetic intensity, under the read-bandwidth roof (lines) and "
             "the compute peaks (dashed) probed in the same runs")]
    for name, files, what in figs:
        if files:
            md.append(f"**{what}** ([svg]({name}.svg))\n\n![{name}]({name}.png)\n")
        else:
            md.append(f"*{name}: no rows to draw ({what}).*\n")

    md.append("## Tuning space and the tuner's choices\n")
    keys = tuning_keys(data["tuning_rows"])
    if keys:
        md.append("Per shape: for each tile parameter, the best GB/s any variant reached with each of its values, "
                  "relative to the best of all (red: the winner's value). From `kernel_runs.jsonl`.\n")
        for key in sorted(keys):
            name = fig_tuning(key, keys[key], out)[0][:-4]
            md.append(f"![{name}]({name}.png) ([svg]({name}.svg))\n")
    else:
        md.append("No tuning run recorded here (`kernel_runs.jsonl`): run `./tune.sh`.\n")
    trows = tuning_table(data)
    if trows:
        write_csv(out / "tuning.csv", TUNING_HEAD, trows)
        md.append("The tuner's choice per key, its runner-up and margin, and the variants tied with the winner "
                  "(within the measurement spread; `ties` in tuned.json). CSV: [tuning.csv](tuning.csv).\n")
        md.append(md_table(TUNING_HEAD, trows) + "\n")
    text = "\n".join(md)
    (out / "index.md").write_text(text)
    return text


def write_report(folder, out=None, quiet=False):
    """Write folder/report/ (or out) atomically; returns its path."""
    data = load(folder)
    dest = Path(out) if out else Path(folder) / "report"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700; a report is for sharing, like the results files
        build(data, tmp)
        old = None
        if dest.exists():
            old = dest.parent / f".{dest.name}.old.{os.getpid()}"
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not quiet:
        files = sorted(dest.iterdir())
        print(f"report: wrote {dest}/index.md and {len(files) - 1} more file(s)", file=sys.stderr)
    return dest


def after_tuning(folder):
    """The end of ./tune.sh: the report of what this machine's folder holds.
    A report that cannot be written is a warning, never a failed tuning run."""
    try:
        dest = write_report(folder, quiet=True)
        print(f"report: {dest / 'index.md'}")
    except ImportError as e:
        print(f"tune: warning: no report: {e} (run scripts/setup.sh: matplotlib is in requirements.txt)", file=sys.stderr)
    except (ReportError, OSError, ValueError) as e:
        print(f"tune: warning: no report: {e}", file=sys.stderr)


def default_folder():
    import subprocess
    tritune = ROOT / "build" / "bin" / "tritune"
    try:
        out = subprocess.run([str(tritune), "info", "--json"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise ReportError(f"cannot ask {tritune} for the machine id ({e}): name the results folder") from None
    info = [json.loads(l) for l in out.splitlines() if l.strip()][-1]
    return ROOT / "results" / info["machine_id"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/report.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", help="results/<machine-id> (default: this machine's)")
    ap.add_argument("--out", help="report folder (default <folder>/report)")
    a = ap.parse_args(argv)
    try:
        folder = Path(a.folder) if a.folder else default_folder()
        dest = write_report(folder, a.out)
    except ReportError as e:
        print(f"report: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"report: error: {e}", file=sys.stderr)
        return 3
    print(dest / "index.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
