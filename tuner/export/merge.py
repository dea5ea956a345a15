"""./tune.sh merge: many machines' tuned.json -> one database keyed by machine
fingerprint (fleet.json), per-machine copies, and a cross-machine report.

fleet.json = {"schema_version": 1, "kind": "tritune-fleet", "date", "generator_hashes": [...],
              "sources": {machine_id: [paths]}, "machines": {machine_id: <tuned.json document>}}
Each machines[...] value follows schema/tuned.schema.json; OUT/<machine_id>/tuned.json holds the
same document, so ./tune.sh export --results OUT/<machine_id> works on any machine of the fleet.
"""

import datetime
import json
from pathlib import Path

from .common import atomic_write
from .db import ExportError, key_of, load, validate


def expand(paths):
    """Result directories, tuned.json files, or roots holding <machine-id>/tuned.json."""
    out = []
    for p in paths:
        if p.is_file() or (p / "tuned.json").exists():
            out.append(p)
        elif p.is_dir() and any(p.glob("*/tuned.json")):
            out += sorted(d for d in p.glob("*") if (d / "tuned.json").exists())
        elif p.is_dir() and any(p.glob("*/*/tuned.json")):
            out += sorted(d.parent for d in p.glob("*/*/tuned.json"))
        else:
            raise ExportError(f"no tuned.json in {p} or its machine directories", 3)
    return out


def combine(a, b):
    """Two databases of one machine: entries per key from the later run (by date)."""
    old, new = sorted((a, b), key=lambda t: t.doc.get("date", ""))
    keyed = {key_of(e): e for e in old.doc["entries"]}
    keyed.update({key_of(e): e for e in new.doc["entries"]})
    doc = dict(new.doc)
    doc["entries"] = [keyed[k] for k in sorted(keyed)]
    bw = dict(old.doc.get("bandwidth_gbps") or {})
    bw.update(new.doc.get("bandwidth_gbps") or {})
    doc["bandwidth_gbps"] = bw
    return doc


def compute_probe(src):
    """Peak int8 multiply-add rates of this machine, {threads: {isa: (GOPS, stable)}}: from bench_compute.jsonl beside
    tuned.json (`tritune bench compute --json`, which scripts/slurm runs after tuning), else from the
    rooflines of the run's GEMM rows (kernel_runs.jsonl).  Empty when neither measured it."""
    peaks = {}
    here = Path(src).parent
    for name, kind in (("bench_compute.jsonl", "compute"), ("kernel_runs.jsonl", "kernel")):
        f = here / name
        if not f.exists():
            continue
        for line in f.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("kind") != kind:
                continue
            isa, g = (r.get("isa"), r.get("gops")) if kind == "compute" else (r.get("peak_isa"), r.get("peak_gops"))
            if (kind == "compute" and r.get("status") != "ok") or not g or not isa:
                continue
            cell = peaks.setdefault(str(r["threads"]), {})
            if isa not in cell or g > cell[isa][0]:
                cell[isa] = (g, r.get("stable", True) is not False)
        if peaks:
            break
    return peaks


def merge(paths, allow_mixed):
    loaded = [load(p) for p in expand(paths)]
    gens = {}
    for t in loaded:
        gens.setdefault(t.generator_hash, []).append(f"{t.machine_id} ({t.path})")
    if len(gens) > 1 and not allow_mixed:
        listing = "; ".join(f"generator {g}: {', '.join(v)}" for g, v in sorted(gens.items()))
        raise ExportError(f"the databases come from different generator versions ({listing}); variant names may "
                          "mean different kernels. Tune every machine with one tritune commit, or pass "
                          "--allow-mixed-generators", 2)
    machines, sources, probes = {}, {}, {}
    for t in loaded:
        mid = t.machine_id
        if mid in machines:
            prev = machines[mid]
            machines[mid] = combine(prev, t)
        else:
            machines[mid] = t
        sources.setdefault(mid, []).append(str(t.path))
        for th, v in compute_probe(t.path).items():
            probes.setdefault(mid, {}).setdefault(th, {}).update(v)
    docs = {mid: (m if isinstance(m, dict) else m.doc) for mid, m in machines.items()}
    for mid, d in docs.items():
        validate(d, f"merged database of {mid}")
    fleet = {"schema_version": 1, "kind": "tritune-fleet", "generated_by": "tritune tune.sh merge",
             "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "generator_hashes": sorted(gens), "sources": sources,
             "machines": {mid: docs[mid] for mid in sorted(docs)}}
    return fleet, report(fleet, probes)


def _cell(e):
    b = e.get("best") if e else None
    if not b:
        return "-" if not e else "no verified variant"
    frac = f", {100 * b['bw_fraction']:.0f}% bw" if b.get("bw_fraction") is not None else ""
    return f"`{b['variant']}` ({b.get('gbps', 0):.2f} GB/s{frac})"


def report(fleet, probes):
    ms = fleet["machines"]
    ids = list(ms)
    L = ["# tritune cross-machine report", "",
         f"Merged {fleet['date']} from {sum(len(v) for v in fleet['sources'].values())} database(s); "
         f"generator(s) {', '.join(fleet['generator_hashes'])}.", "",
         "Figures come from each machine's own run: compare winners and fractions of each machine's "
         "bandwidth probe, not absolute GB/s across machines. A probe marked (unstable) had an interquartile "
         "range above 5% of its median (the harness's stability rule): measure it again on a quiet machine.", "", "## Machines", "",
         "| machine | CPU | cores | features | read bandwidth probe (GB/s by threads) | compute probe (peak int8 GOPS by threads) | entries |",
         "|---|---|---|---|---|---|---|"]
    for mid in ids:
        d = ms[mid]
        m = d["machine"]
        bw = ", ".join(f"{t}T {g:.1f}" for t, g in sorted((d.get("bandwidth_gbps") or {}).items(), key=lambda x: int(x[0])))
        pk = probes.get(mid)
        comp = "; ".join(f"{t}T " + ", ".join(f"{isa} {g:.0f}" + ("" if ok else " (unstable)")
                                               for isa, (g, ok) in sorted(v.items()))
                         for t, v in sorted(pk.items(), key=lambda x: int(x[0]))) if pk else \
            "not measured (write `tritune bench compute --json` to bench_compute.jsonl beside tuned.json)"
        L.append(f"| `{mid}` | {m.get('cpu')} | {m.get('cores')} | {m.get('features')} | {bw or 'not recorded'} | "
                 f"{comp} | {len(d['entries'])} |")
    keys = sorted({key_of(e) for d in ms.values() for e in d["entries"]})
    L += ["", "## Which variant wins where", "",
          "| op | format | M x K | N | threads | cache | " + " | ".join(f"`{m}`" for m in ids) + " | same winner |",
          "|---|---|---|---|---|---|" + "---|" * len(ids) + "---|"]
    same_all = 0
    for k in keys:
        row = [next((e for e in ms[mid]["entries"] if key_of(e) == k), None) for mid in ids]
        winners = {e["best"]["variant"] for e in row if e and e.get("best")}
        present = sum(1 for e in row if e)
        same = "n/a" if present < 2 else ("yes" if len(winners) == 1 and present == len(ids) else "no")
        same_all += same == "yes"
        op, fmt, M, K, N, T, cache = k
        L.append(f"| {op} | {fmt} | {M}x{K} | {N} | {T} | {cache} | " + " | ".join(_cell(e) for e in row) + f" | {same} |")
    L += ["", "## Winning ISA families per machine", ""]
    for mid in ids:
        fam = {}
        for e in ms[mid]["entries"]:
            if e.get("best"):
                isa = e["best"].get("isa") or e["best"]["variant"].split("_")[3]
                fam[isa] = fam.get(isa, 0) + 1
        L.append(f"- `{mid}`: " + (", ".join(f"{isa} {n}" for isa, n in sorted(fam.items())) or "no winners"))
    L += ["", f"{same_all} of {len(keys)} keys have the same winner on every machine.", ""]
    return "\n".join(L)


def write(fleet, rep, out):
    for mid, d in fleet["machines"].items():
        atomic_write(out / mid / "tuned.json", json.dumps(d, indent=1) + "\n")
    atomic_write(out / "fleet.json", json.dumps(fleet, indent=1) + "\n")
    atomic_write(out / "report.md", rep)
