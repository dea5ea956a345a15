"""The measurement cache: results/<machine-id>/cache.jsonl, append-only.

Line 1 is the provenance header (machine fingerprint, CPU features,
generator hash, compiler and flags, the settings that change what a
measurement means).  Every further line is one answered request: the key,
the strategy's round that asked for it, the variants, passes, min-time and
minimum sample count,
and the harness's kernel and probe rows (raw samples included).  A line is
written and flushed as soon as its request is answered, so a kill loses
at most the request in flight; a torn last line (SIGKILL mid-write) is cut
off on the next open.  A rerun asks the same (key, round, variants,
passes, min-time, min-samples) and is answered from here without measuring."""

import json
import os

from .files import atomic_write

SCHEMA = 1


class CacheMismatch(Exception):
    pass


def _flat(d, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}: a header mismatch names the field."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _lookup_key(key, rnd, variants, passes, min_time, min_samples):
    return (tuple(key), str(rnd), tuple(variants), int(passes), round(float(min_time), 6), int(min_samples))


class Cache:
    def __init__(self, path, header, fresh=False):
        self.path = path
        self.header = dict(header, kind="header", schema=SCHEMA)
        self.rows = {}
        self.hits = 0
        self.misses = 0
        self.loaded = 0
        self.cut = 0
        if fresh or not os.path.exists(path):
            self._start()
        else:
            self._load()
        self.f = open(path, "a")

    def _start(self):
        atomic_write(self.path, json.dumps(self.header, sort_keys=True) + "\n")

    def _load(self):
        with open(self.path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        try:
            head = json.loads(lines[0]) if lines[0].strip() else None
        except ValueError:
            head = None
        if not isinstance(head, dict) or head.get("kind") != "header":
            raise CacheMismatch(f"{self.path} has no provenance header (not a tritune cache)")
        old, new = _flat(head), _flat(self.header)
        diff = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        if diff:
            what = "; ".join(f"{k}: cached {old.get(k)!r}, now {new.get(k)!r}" for k in diff)
            raise CacheMismatch(f"{self.path} was measured under other conditions ({what})")
        good = len(lines[0]) + 1
        for raw in lines[1:]:
            if not raw.strip():
                good += len(raw) + 1
                continue
            try:
                rec = json.loads(raw)
                k = _lookup_key(rec["key"], rec["round"], rec["variants"], rec["passes"], rec["min_time"],
                                rec["min_samples"])
                krows, prows = rec["kernel"], rec["probes"]
            except (ValueError, KeyError, TypeError):
                break  # a torn line (killed mid-write): it and anything after it are cut off
            self.rows[k] = (krows, prows)
            self.loaded += 1
            good += len(raw) + 1
        good = min(good, len(data))
        if good < len(data):
            self.cut = len(data) - good
            with open(self.path, "r+b") as f:
                f.truncate(good)
                if good and data[good - 1:good] != b"\n":
                    f.seek(good)
                    f.write(b"\n")

    def get(self, key, rnd, variants, passes, min_time, min_samples):
        r = self.rows.get(_lookup_key(key, rnd, variants, passes, min_time, min_samples))
        if r is not None:
            self.hits += 1
        return r

    def put(self, key, rnd, variants, passes, min_time, min_samples, krows, prows):
        self.misses += 1
        k = _lookup_key(key, rnd, variants, passes, min_time, min_samples)
        self.rows[k] = (krows, prows)
        rec = {"key": list(key), "round": str(rnd), "variants": list(variants), "passes": int(passes),
               "min_time": round(float(min_time), 6), "min_samples": int(min_samples), "kernel": krows,
               "probes": prows}
        self.f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()


def cached_request(cache, runner):
    """request(key, variants, round, passes, min_time, min_samples) for a
    Measurer: answered by the cache, else measured by the runner and appended."""
    def request(key, variants, rnd, passes, min_time, min_samples):
        hit = cache.get(key, rnd, variants, passes, min_time, min_samples)
        if hit is not None:
            return hit
        krows, prows = runner.request(key, variants, passes, min_time, min_samples)
        cache.put(key, rnd, variants, passes, min_time, min_samples, krows, prows)
        return krows, prows
    return request
