"""tuned.json as a JSON file for other tools: validated against
schema/tuned.schema.json, written with the schema beside it."""

import json
import shutil

from .common import Report, atomic_write
from .db import SCHEMA, validate


def export(tuned, out, threads=None):
    rep = Report("json")
    validate(tuned.doc, str(tuned.path))
    path = out / "tuned.json"
    atomic_write(path, json.dumps(tuned.doc, indent=1) + "\n")
    shutil.copyfile(SCHEMA, out / SCHEMA.name)
    rep.files += [str(path), str(out / SCHEMA.name)]
    rep.notes.append(f"{len(tuned.entries)} entries from machine {tuned.machine_id}, validated against {SCHEMA.name}")
    return rep
