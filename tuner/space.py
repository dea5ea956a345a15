"""The search space as data, and the measurements a strategy asks for.

A key is one tuned choice: (op, format, M, K, N, threads, cache).  Its
candidates are the runnable, verified variants of its op and format, each
with its tile parameters parsed from the variant table (`tritune list
--json`: "rows=4,kunroll=1,prefetch=2048").  A strategy sees a Measurer:
the candidates, and measure(variants, round, ...) which asks the runner
(through the cache) for one interleaved request and keeps the blocks."""

from collections import namedtuple

from .stats import pooled_median

Key = namedtuple("Key", "op format M K N threads cache")


def parse_params(s):
    """'rows=4,BK=192,isa=x' -> {'rows': 4, 'BK': 192, 'isa': 'x'} (values that are not integers stay strings)."""
    out = {}
    for part in (s or "").split(","):
        if "=" in part:
            k, v = (x.strip() for x in part.split("=", 1))
            try:
                out[k] = int(v)
            except ValueError:
                out[k] = v
    return out


class Candidate(namedtuple("Candidate", "name isa layout params")):
    @classmethod
    def from_row(cls, r):
        p = parse_params(r.get("params"))
        p["isa"] = r.get("isa")
        return cls(r["variant"], r.get("isa"), r.get("layout"), p)


def samples_of(row):
    """The raw per-call ns of a kernel row (its median when it has none)."""
    s = row.get("sample_ns")
    return [float(x) for x in s] if s else [float(row["median_ns"])]


class Measurer:
    """One key's measurements.  request(key, variants, round, passes,
    min_time, min_samples) -> (kernel rows, probe rows) is the runner behind
    the cache.
    cost counts the measuring time in seconds (calls x median per call of
    every row measured), the unit in which strategies are compared."""

    def __init__(self, key, candidates, request, min_time):
        self.key = key
        self.candidates = list(candidates)
        self.by_name = {c.name: c for c in self.candidates}
        self.request = request
        self.min_time = min_time
        self.blocks = {}     # variant -> {(round, pass): [ns, ...]}
        self.rows = {}       # variant -> last ok kernel row
        self.failed = {}     # variant -> status and note
        self.probes = []     # probe rows of this key
        self.rows_all = []   # every kernel row of this key
        self.cost = 0.0
        self.requests = 0

    def alive(self):
        return [c.name for c in self.candidates if c.name not in self.failed]

    def measure(self, variants, round, passes=1, time_scale=1.0, min_samples=10):
        """Measure `variants` (names) in `passes` interleaved passes of
        min_time * time_scale each (and at least min_samples samples, 1 to
        1000); round names the strategy's step (a point is measured once per
        round).  Returns {variant: median ns of
        this request's blocks} for the ones that measured ok."""
        variants = [v for v in variants if v not in self.failed]
        if not variants:
            return {}
        t = max(0.001, self.min_time * time_scale)
        krows, prows = self.request(self.key, variants, str(round), passes, t, min_samples)
        self.requests += 1
        self.probes.extend(prows)
        self.rows_all.extend(krows)
        out = {}
        for r in krows:
            v = r["variant"]
            if r.get("status") != "ok" or r.get("verified") is not True:
                self.failed[v] = {"status": r.get("status"), "note": r.get("note")}
                continue
            # the time the samples took (the harness takes at least 10), else the time asked for
            reps, med = r.get("reps"), r.get("median_ns")
            self.cost += reps * med * 1e-9 if reps and med else t
            self.blocks.setdefault(v, {})[(str(round), int(r.get("pass", 0)))] = samples_of(r)
            self.rows[v] = r
        for v in variants:
            b = {k: s for k, s in self.blocks.get(v, {}).items() if k[0] == str(round)}
            if b and v not in self.failed:
                out[v] = pooled_median(b)
        return out
