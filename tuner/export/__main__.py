"""./tune.sh export and ./tune.sh merge (python -m tuner.export).

  ./tune.sh export --to bitnet|tmac|c-bundle|json --out DIR [--results results/<machine-id>] [--threads T]
  ./tune.sh merge DIR... --out DIR [--allow-mixed-generators]

Exit codes: 0 ok; 2 bad usage or bad input (malformed tuned.json, mixed
generators); 3 environment or files (no tuning database, unwritable --out).
"""

import argparse
import sys
from pathlib import Path

from . import bitnet, cbundle, jsondb, merge, tmac
from .common import atomic_write, need_out
from .db import ROOT, ExportError, default_results, load

TARGETS = {"bitnet": bitnet, "tmac": tmac, "c-bundle": cbundle, "json": jsondb}


def cmd_export(argv):
    ap = argparse.ArgumentParser(prog="tune.sh export", description="Export this machine's tuned configuration "
                                 "to another runtime's format (docs/export.md).")
    ap.add_argument("--to", required=True, choices=sorted(TARGETS), help="target format")
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--results", default=None,
                    help="results/<machine-id> directory or tuned.json (default: this machine's under results/)")
    ap.add_argument("--threads", type=int, default=None,
                    help="bitnet, tmac: the thread count whose entries to export (default: the largest tuned)")
    ap.add_argument("--fit", action="store_true",
                    help="bitnet: where the winner cannot be expressed, export the fastest verified variant of the "
                         "last tuning run (kernel_runs.jsonl) that can, and say how much slower it was")
    a = ap.parse_args(argv)
    if a.fit and a.to != "bitnet":
        raise ExportError("--fit applies to --to bitnet only", 2)
    if a.threads is not None and a.to not in ("bitnet", "tmac"):
        raise ExportError(f"--threads applies to --to bitnet and tmac (one configuration per shape); "
                          f"--to {a.to} exports every entry", 2)
    if a.threads is not None and a.threads <= 0:
        raise ExportError("--threads wants a positive integer", 2)
    src = a.results or default_results(ROOT / "results", ROOT / "build" / "bin" / "tritune")
    tuned = load(src)
    out = need_out(a.out)
    try:
        opts = {"fit_expressible": True} if a.fit else {}
        rep = TARGETS[a.to].export(tuned, out, threads=a.threads, **opts)
        atomic_write(out / "EXPORT_REPORT.txt", rep.text())
    except OSError as e:
        raise ExportError(f"cannot write to {out}: {e}", 3)
    print(rep.text(), end="")
    print(f"export: {a.to} from {tuned.path} ({tuned.machine_id}): {len(rep.files)} file(s), "
          f"{len(rep.skipped)} entr{'y' if len(rep.skipped) == 1 else 'ies'} not expressible "
          f"(listed above and in {out / 'EXPORT_REPORT.txt'})", file=sys.stderr)
    return 0


def cmd_merge(argv):
    ap = argparse.ArgumentParser(prog="tune.sh merge", description="Combine results from many machines into one "
                                 "database keyed by machine fingerprint, with a cross-machine report.")
    ap.add_argument("dirs", nargs="+", metavar="DIR",
                    help="results/<machine-id> directories, tuned.json files, or results roots holding them")
    ap.add_argument("--out", required=True, help="output directory: fleet.json, report.md, <machine-id>/tuned.json")
    ap.add_argument("--allow-mixed-generators", action="store_true",
                    help="merge databases made by different generator versions (their variant names may differ)")
    a = ap.parse_args(argv)
    out = need_out(a.out)
    try:
        fleet, report = merge.merge([Path(d) for d in a.dirs], a.allow_mixed_generators)
        merge.write(fleet, report, out)
    except OSError as e:
        raise ExportError(f"cannot write to {out}: {e}", 3)
    n = len(fleet["machines"])
    print(f"merge: {n} machine(s), {sum(len(m['entries']) for m in fleet['machines'].values())} entries -> "
          f"{out / 'fleet.json'}, report {out / 'report.md'}", file=sys.stderr)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmds = {"export": cmd_export, "merge": cmd_merge}
    if not argv or argv[0] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return cmds[argv[0]](argv[1:])
    except ExportError as e:
        print(f"{argv[0]}: error: {e}", file=sys.stderr)
        return e.code


if __name__ == "__main__":
    sys.exit(main())
