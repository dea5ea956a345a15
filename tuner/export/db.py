"""Reading results/<machine-id>/tuned.json for the exporters.

The tuner owns tuned.json and may add fields to it; this reader checks only
what the exporters rely on (schema/tuned.schema.json, which allows extra
fields) and ignores the rest.
"""

import json
from pathlib import Path

from ..space import parse_params

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema" / "tuned.schema.json"
KEY = ("op", "format", "M", "K", "N", "threads", "cache")


class ExportError(Exception):
    """A message for the user and the exit code (2 bad usage/input, 3 environment/files)."""

    def __init__(self, msg, code=2):
        super().__init__(msg)
        self.code = code


def schema():
    return json.loads(SCHEMA.read_text())


def validate(doc, where):
    """Raise ExportError (exit 2) naming the first schema violation of doc."""
    try:
        import jsonschema
    except ImportError as e:  # the venv is made from requirements.txt by scripts/setup.sh
        raise ExportError(f"the jsonschema package is missing ({e}): run scripts/setup.sh", 3)
    v = jsonschema.Draft202012Validator(schema())
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errs:
        e = errs[0]
        path = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise ExportError(f"{where} does not follow schema/tuned.schema.json at {path}: {e.message}{more}", 2)


def params(s):
    """'BM=64,BK=384,bm=64' -> {'BM': 64, 'BK': 384, 'bm': 64} (values that are not integers stay strings)."""
    return parse_params(s)


def key_of(e):
    return tuple(e[k] for k in KEY)


class Tuned:
    """One machine's tuning database."""

    def __init__(self, doc, path):
        self.doc = doc
        self.path = Path(path)
        self.machine = doc["machine"]
        self.machine_id = self.machine["machine_id"]
        self.generator_hash = self.machine["generator_hash"]
        # entries without a winner (no verified variant could be measured) have nothing to export
        self.entries = sorted((e for e in doc["entries"] if e.get("best")), key=key_of)
        self.failed = [e for e in doc["entries"] if not e.get("best")]


def load(path):
    """path: a results/<machine-id> directory or a tuned.json file."""
    p = Path(path)
    f = p / "tuned.json" if p.is_dir() else p
    if not f.exists():
        hint = ""
        if p.is_dir():
            subs = sorted(d.name for d in p.iterdir() if (d / "tuned.json").exists())
            if subs:
                hint = f" (it holds machine directories: {', '.join(subs)}; name one, e.g. {p / subs[0]})"
        raise ExportError(f"no tuning database at {f}{hint}: run ./tune.sh first", 3)
    try:
        doc = json.loads(f.read_text())
    except OSError as e:
        raise ExportError(f"cannot read {f}: {e}", 3)
    except ValueError as e:
        raise ExportError(f"{f} is not valid JSON (truncated or corrupt?): {e}", 2)
    validate(doc, str(f))
    return Tuned(doc, f)


def default_results(results_root, tritune):
    """results/<this machine's id>, asking the harness for the id; else the only machine directory."""
    import subprocess
    root = Path(results_root)
    try:
        out = subprocess.run([str(tritune), "info", "--json"], capture_output=True, text=True, timeout=60)
        for line in out.stdout.splitlines():
            rec = json.loads(line)
            if rec.get("machine_id"):
                if (root / rec["machine_id"] / "tuned.json").exists():
                    return root / rec["machine_id"]
                break
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    dirs = sorted(d for d in root.glob("*") if (d / "tuned.json").exists()) if root.is_dir() else []
    if len(dirs) == 1:
        return dirs[0]
    if not dirs:
        raise ExportError(f"no tuning database for this machine under {root}/: run ./tune.sh first "
                          "or name one with --results", 3)
    raise ExportError(f"several machines under {root}/ ({', '.join(d.name for d in dirs)}): "
                      "choose one with --results DIR", 2)
