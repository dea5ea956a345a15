"""tuned.json and tuned.tsv: validated on read, checked on write.

tuned.json is the tuner's record (schema_version 2: per key the winner,
its tie group `ties`, the ratio to the runner-up with a CI, the roofline
and its flags); tuned.tsv is the same choices for the C runtime
(tt_tuning_load), one line per key: op fmt M K N threads variant.
Entries that name a variant the harness does not have, or that came from
another generator, are dropped with a warning, never passed on; a variant
name is written only if it is a plain identifier, so no name can inject
lines into the tsv."""

import json
import re

from . import select as sel

NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,200}$")
OPS = ("gemv", "gemm")
FORMATS = ("i2s", "tl1", "tl2")


class TunedError(Exception):
    pass


def _int(v, lo=1, hi=1 << 31):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v < hi


def entry_problem(e, known=None):
    """Why an entry cannot be used (None when it can)."""
    if not isinstance(e, dict):
        return "not an object"
    if e.get("op") not in OPS or e.get("format") not in FORMATS:
        return f"bad op/format {e.get('op')!r}/{e.get('format')!r}"
    for k in ("M", "K", "N", "threads"):
        if not _int(e.get(k)):
            return f"bad {k} {e.get(k)!r}"
    if e.get("cache") not in ("warm", "streaming"):
        return f"bad cache {e.get('cache')!r}"
    best = e.get("best")
    if best is None:
        return None  # a key that could not be measured: kept as a record, never written to tsv
    if not isinstance(best, dict) or not isinstance(best.get("variant"), str) or not NAME_RE.match(best["variant"]):
        return f"bad variant {best.get('variant') if isinstance(best, dict) else best!r}"
    if known is not None:
        v = known.get(best["variant"])
        if v is None:
            return f"unknown variant {best['variant']}"
        if v.get("op") != e["op"] or v.get("format") != e["format"]:
            return f"variant {best['variant']} is a {v.get('op')} {v.get('format')}, not {e['op']} {e['format']}"
    return None


def read_json(path, generator_hash, known, warn):
    """The usable entries of an existing tuned.json.  Raises TunedError when
    the file is not a tuned.json at all (checked before any measuring)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise TunedError(f"{path} is not readable JSON ({e})")
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list) or \
            not isinstance(doc.get("machine"), dict):
        raise TunedError(f"{path} is not a tuned.json (an object with 'machine' and a list 'entries')")
    if doc["machine"].get("generator_hash") != generator_hash:
        warn(f"{path} came from another generator ({doc['machine'].get('generator_hash')}): its "
             f"{len(doc['entries'])} entries were dropped")
        return []
    out = []
    for e in doc["entries"]:
        why = entry_problem(e, known)
        if why:
            warn(f"{path}: an entry was dropped: {why}")
            continue
        out.append(e)
    return out


def tsv_text(entries, machine_id, generator_hash, cache):
    lines = ["# tritune tuned configuration: op fmt M K N threads variant",
             f"# machine {machine_id} generator {generator_hash} cache {cache}"]
    for e in sorted(entries, key=sel.key_of):
        if not e.get("best"):
            continue
        v = e["best"]["variant"]
        if not NAME_RE.match(v) or e["op"] not in OPS or e["format"] not in FORMATS:
            raise TunedError(f"refusing to write variant name {v!r} into tuned.tsv")
        lines.append(f"{e['op']} {e['format']} {e['M']} {e['K']} {e['N']} {e['threads']} {v}")
    return "\n".join(lines) + "\n"


def read_tsv(path, generator_hash, known, warn):
    """(op, fmt, M, K, N, threads, variant) tuples of a tuned.tsv; bad lines
    and another generator's file are dropped with a warning."""
    out = []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        warn(f"{path} is not readable: {e}")
        return out
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("# machine "):
            f = line.split()
            gen = f[f.index("generator") + 1] if "generator" in f and f.index("generator") + 1 < len(f) else None
            if gen != generator_hash:
                warn(f"{path} came from another generator ({gen}): ignored")
                return []
            continue
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split()
        ok = len(f) == 7 and f[0] in OPS and f[1] in FORMATS and all(x.isdigit() and 0 < int(x) < 1 << 31
                                                                       for x in f[2:6])
        if ok and NAME_RE.match(f[6]) and (known is None or (f[6] in known and known[f[6]]["op"] == f[0]
                                                             and known[f[6]]["format"] == f[1])):
            out.append((f[0], f[1], int(f[2]), int(f[3]), int(f[4]), int(f[5]), f[6]))
        else:
            warn(f"{path}:{n}: dropped a bad line: {line[:120]!r}")
    return out
