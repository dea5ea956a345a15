"""What the exporters share: the per-shape choice for targets that hold one
configuration per (M, K), the record of what could not be exported, and
atomic writes (a target file is never half-written)."""

from pathlib import Path

from ..files import atomic_write  # noqa: F401 (the exporters import it from here)
from .db import ExportError, params


class Report:
    """Files written and entries that the target cannot express (with why)."""

    def __init__(self, target):
        self.target = target
        self.files = []
        self.skipped = []   # (what, why)
        self.notes = []

    def skip(self, what, why):
        self.skipped.append((what, why))

    def text(self):
        lines = [f"# tritune export --to {self.target}"]
        lines += [f"wrote {f}" for f in self.files]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"NOT EXPORTED {w}: {y}" for w, y in self.skipped]
        return "\n".join(lines) + "\n"


def entry_name(e):
    return f"{e['op']} {e['format']} {e['M']}x{e['K']} N={e['N']} T={e['threads']} ({e['cache']}: {e['best']['variant']})"


def per_shape(tuned, formats, threads, report):
    """For targets with one configuration per (M, K): the decode entry (gemv,
    N = 1) of each shape at `threads` (default: the largest thread count
    tuned), preferring the streaming cache state.  Entries of other keys are
    reported as not exported.  Returns {format: [entry, ...]} sorted by shape."""
    mine = [e for e in tuned.entries if e["format"] in formats]
    if not mine:
        return {}
    gemv = [e for e in mine if e["op"] == "gemv" and e["N"] == 1]
    if threads is None and gemv:
        threads = max(e["threads"] for e in gemv)
    chosen = {}
    for e in gemv:
        if e["threads"] != threads:
            continue
        k = (e["format"], e["M"], e["K"])
        if k not in chosen or (chosen[k]["cache"] != "streaming" and e["cache"] == "streaming"):
            chosen[k] = e
    used = {id(e) for e in chosen.values()}
    for e in mine:
        if id(e) not in used:
            report.skip(entry_name(e), f"the target holds one configuration per (M, K); the decode entry "
                                       f"(gemv, N=1, {threads} thread(s)) was exported")
    out = {}
    for (fmt, _, _), e in sorted(chosen.items()):
        out.setdefault(fmt, []).append(e)
    return out


def tiles(e):
    return params(e["best"].get("params", ""))


def need_out(out):
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ExportError(f"--out {p} exists and is not a directory", 2)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create --out {p}: {e}", 3)
    return p
