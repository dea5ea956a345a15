"""Tuner logic without hardware: strategies replay recorded or synthetic
sweeps; process-level behaviour (signals, resume, bad input) runs against
a fake harness (fake_tritune.py)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuner import select as sel
from tuner import stats, strategies, tuned_io
import tuner.__main__ as tmain
from tuner.cache import Cache, CacheMismatch, cached_request
from tuner.replay import ReplayRunner, Sweep, load_rows
from tuner.space import Candidate, Key, Measurer

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SWEEP = ROOT / "scripts" / "fixtures" / "sweep_2b4t.jsonl.gz"
KEY = Key("gemv", "i2s", 2560, 2560, 1, 1, "streaming")


def synthetic_sweep(speeds, blocks=3, n=30, noise=0.01, seed=0):
    """Rows of a recorded sweep at KEY: variant -> true ns, `blocks` passes."""
    import random
    rng = random.Random(seed)
    rows = []
    for p in range(blocks):
        drift = 1 + noise * rng.uniform(-1, 1)   # the machine drifts between passes, for every variant
        for v, t in speeds.items():
            r2 = random.Random(p)                 # equal speeds give equal samples
            s = [int(t * drift * (1 + noise * r2.random())) for _ in range(n)]
            rows.append({"kind": "kernel", "variant": v, "op": "gemv", "format": "i2s", "isa": "avx512",
                         "layout": "i2s", "params": f"rows={len(v)},prefetch={sum(map(ord, v)) % 5}", "M": KEY.M, "K": KEY.K, "N": 1,
                         "threads": 1, "cache": "streaming", "pass": p, "status": "ok", "verified": True,
                         "median_ns": sorted(s)[n // 2], "sample_ns": s, "weight_bytes": KEY.M * KEY.K // 4})
    rows.append({"kind": "kernel", "variant": "broken", "op": "gemv", "format": "i2s", "isa": "c", "layout": "i2s",
                 "params": "", "M": KEY.M, "K": KEY.K, "N": 1, "threads": 1, "cache": "streaming", "pass": 0,
                 "status": "verify_failed", "verified": False})
    rows.append({"kind": "probe", "M": KEY.M, "K": KEY.K, "N": 1, "threads": 1, "cache": "streaming", "gbps": 10.0,
                 "strategy": "plain"})
    return Sweep(rows)


def run_key(sweep, name, seed=1, key=KEY, opts=None):
    mod = strategies.get(name)
    m = Measurer(key, [Candidate.from_row(r) for r in sweep.candidates_rows(key)], ReplayRunner(sweep, seed), 0.05)
    fin = mod.search(m, strategies.check_options(mod, opts or {}), seed)
    return sel.verdict(m, fin, seed=seed, strategy=name), m


SPEEDS = {f"v{i:02d}": 100000 * (1 + 0.03 * i) for i in range(24)}


@pytest.mark.parametrize("name", sorted(strategies.STRATEGIES))
def test_every_strategy_replays_and_never_picks_a_failed_variant(name):
    sweep = synthetic_sweep(SPEEDS)
    e, m = run_key(sweep, name, opts={"budget": 1.0} if name in ("random", "model") else None)
    assert e["winner"] == "v00" and e["ties"][0] == e["winner"] or e["winner"] in e["ties"]
    assert "broken" in m.failed and e["verify_failed"] == 1
    assert e["best"]["variant"] == e["winner"] and e["winner"] != "broken"


def test_race_is_cheaper_than_brute_force_and_deterministic():
    sweep = synthetic_sweep(SPEEDS)
    e1, m1 = run_key(sweep, "race", seed=3)
    e2, m2 = run_key(sweep, "race", seed=3)
    eb, mb = run_key(sweep, "brute_force", seed=3)
    assert e1["winner"] == "v00" and eb["winner"] == "v00"
    assert m1.cost < 0.5 * mb.cost
    assert e1 == e2 and m1.cost == m2.cost   # a rerun asks for the same points (the cache can answer)


def test_tied_variants_form_a_tie_group_with_a_declared_rule():
    sweep = synthetic_sweep({"b_same": 100000, "a_same": 100000, "slow": 130000}, blocks=4, noise=0.002)
    e, m = run_key(sweep, "race")
    assert e["ties"] == ["a_same", "b_same"]
    assert e["tie_break"] == sel.TIE_RULE   # the rule: the fastest over every round, then by name
    pooled = {v: stats.pooled_median(m.blocks[v]) for v in e["ties"]}
    assert e["winner"] == min(pooled, key=lambda v: (pooled[v], v))
    r = e["ratio_to_runner_up"]
    assert r["ci_low"] <= 1.0 <= r["ci_high"] + 0.01


def test_paired_ratio_ci_excludes_one_for_a_real_difference():
    a = {("r", p): [100.0 + i % 3 for i in range(20)] for p in range(3)}
    b = {("r", p): [110.0 + i % 3 for i in range(20)] for p in range(3)}
    r = stats.ratio(a, b, seed=1)
    assert 1.08 < r.lo <= r.point <= r.hi < 1.12 and r.pairs == 3
    assert stats.ratio(a, {("x", 0): [1.0]}) is None


def test_recorded_sweep_race_is_close_to_exhaustive_best_at_a_fraction_of_the_cost():
    """The committed sweep (a real run on a quiet machine, see its metadata): over the 1-thread keys,
    race's picks are on average within 2% of the exhaustive best (in the sweep's own medians) for
    under 30% of brute force's measuring time."""
    sweep = Sweep(load_rows(SWEEP))
    keys = [k for k in sweep.keys() if k.threads == 1]
    assert len(keys) >= 8 and {k.format for k in keys} == {"i2s", "tl2"}
    gaps, cost, cost_bf = [], 0.0, 0.0
    for k in keys:
        truth = sweep.exhaustive_medians(k)
        e, m = run_key(sweep, "race", key=k)
        gaps.append(truth[e["winner"]] / min(truth.values()) - 1)
        cost += m.cost
        cost_bf += run_key(sweep, "brute_force", key=k)[1].cost
    assert sum(gaps) / len(gaps) < 0.02
    assert cost < 0.3 * cost_bf


def test_roofline_flags():
    bw = sel.probe_summary([{"gbps": 10.0, "strategy": "streams"}, {"gbps": 10.2, "strategy": "streams"}])
    assert bw["probes"] == 2 and bw["strategy"] == "streams" and bw["spread"] < 0.1
    flag, pflag = sel.bw_flags(1.30, bw, "streaming")
    assert "130%" in flag and pflag is None
    assert sel.bw_flags(1.04, bw, "streaming") == (None, None)
    wide = sel.probe_summary([{"gbps": 6.0}, {"gbps": 15.0}])
    flag, pflag = sel.bw_flags(1.6, wide, "streaming")
    assert "unsteady" in pflag and "unsteady" in flag


# ---- the cache ---------------------------------------------------------------------

class CountingRunner:
    def __init__(self, sweep):
        self.replay = ReplayRunner(sweep)
        self.n = 0

    def request(self, key, variants, passes, min_time, min_samples):
        self.n += 1
        return self.replay(key, variants, "x", passes, min_time, min_samples)


def test_cache_resumes_without_measuring_again_and_cuts_a_torn_line(tmp_path):
    sweep = synthetic_sweep(SPEEDS)
    path = str(tmp_path / "cache.jsonl")
    head = {"machine": {"id": 1}, "generator_hash": "g1"}
    runner = CountingRunner(sweep)

    def tune():
        c = Cache(path, head)
        m = Measurer(KEY, [Candidate.from_row(r) for r in sweep.candidates_rows(KEY)], cached_request(c, runner), 0.05)
        e = sel.verdict(m, strategies.race.search(m, strategies.check_options(strategies.race, {}), 1), seed=1)
        c.close()
        return e, c

    e1, c1 = tune()
    first = runner.n
    assert first > 0 and c1.misses == first
    e2, c2 = tune()
    assert runner.n == first and c2.hits == first and e2["winner"] == e1["winner"]
    with open(path, "a") as f:
        f.write('{"key": ["gemv", "i2s", 1')  # SIGKILL in the middle of a line
    c3 = Cache(path, head)
    assert c3.cut > 0 and c3.loaded == first
    c3.close()
    assert open(path).read().endswith("\n")
    with pytest.raises(CacheMismatch, match="generator_hash"):
        Cache(path, dict(head, generator_hash="g2"))
    Cache(path, dict(head, generator_hash="g2"), fresh=True).close()   # --fresh starts over
    assert len(open(path).read().splitlines()) == 1


# ---- tuned.json / tuned.tsv --------------------------------------------------------

KNOWN = {"gemv_a": {"op": "gemv", "format": "i2s"}, "gemm_b": {"op": "gemm", "format": "i2s"}}


def entry(variant, **kw):
    e = {"op": "gemv", "format": "i2s", "M": 64, "K": 128, "N": 1, "threads": 1, "cache": "streaming",
         "best": {"variant": variant}}
    e.update(kw)
    return e


def test_tuned_json_validated_on_read(tmp_path):
    p = tmp_path / "tuned.json"
    warnings = []
    p.write_text(json.dumps({"machine": {"generator_hash": "g"},
                             "entries": [entry("gemv_a"), entry("gone_variant"), entry("gemm_b"), entry("x\nop"),
                                         entry("gemv_a", M=-1), "junk"]}))
    got = tuned_io.read_json(p, "g", KNOWN, warnings.append)
    assert [e["best"]["variant"] for e in got] == ["gemv_a"] and len(warnings) == 5
    assert tuned_io.read_json(p, "other", KNOWN, warnings.append) == []   # another generator: all dropped
    for bad in ('{"entries": 5}', '[1, 2]', '{"machine": {}, "entries": {"a": 1}}', 'not json'):
        p.write_text(bad)
        with pytest.raises(tuned_io.TunedError):
            tuned_io.read_json(p, "g", KNOWN, warnings.append)


def test_tsv_cannot_be_injected_and_is_validated_on_read(tmp_path):
    with pytest.raises(tuned_io.TunedError):
        tuned_io.tsv_text([entry("gemv_a\ngemv i2s 1 1 1 1 gemv_a")], "m", "g", "streaming")
    text = tuned_io.tsv_text([entry("gemv_a")], "m", "g", "streaming")
    assert text.count("\n") == 3
    p = tmp_path / "tuned.tsv"
    p.write_text(text + "gemv i2s 4294967392 128 1 1 gemv_a\ngemm i2s 64 128 1 1 gemv_a\n"
                 "gemv i2s 64 128 1 1 gemv_a junk\ngemv i2s 64 128 1 1 unknown\n")
    w = []
    assert tuned_io.read_tsv(p, "g", KNOWN, w.append) == [("gemv", "i2s", 64, 128, 1, 1, "gemv_a")]
    assert len(w) == 4
    assert tuned_io.read_tsv(p, "other", KNOWN, w.append) == []


def test_merge_keeps_other_keys_and_replaces_same_keys():
    old = [entry("gemv_a", M=999), entry("stale")]
    new = [entry("gemv_a")]
    merged, kept = tmain.merge_entries(old, new)
    assert kept == 1 and len(merged) == 2
    assert [e for e in merged if e["M"] == 64][0]["best"]["variant"] == "gemv_a"


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "tuned.json"
    tmain.atomic_write(target, "first")
    with pytest.raises(TypeError):
        tmain.atomic_write(target, None)   # write fails mid-way
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["tuned.json"]


# ---- the command line, against the fake harness --------------------------------------

@pytest.fixture
def fake(tmp_path):
    p = tmp_path / "fake_tritune"
    p.write_text(f"#!{sys.executable}\n" + (HERE / "fake_tritune.py").read_text())
    p.chmod(0o755)
    return p


def tune(args, fake, tmp_path, env=None, wait=True):
    cmd = [sys.executable, "-m", "tuner", "--tritune", str(fake), "--results", str(tmp_path / "res"),
           "--min-time", "0.01"] + args
    e = dict(os.environ, **(env or {}))
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    if not wait:
        return p
    o, err = p.communicate(timeout=120)
    return p.returncode, o, err


def mdir(tmp_path):
    return tmp_path / "res" / "fake-machine-1"


@pytest.mark.parametrize("args", [["--format", "i2s,bogus"], ["--min-time", "0"], ["--min-time", "abc"],
                                  ["--strategy", "annealing"], ["--option", "nope=1"], ["--threads", "0"]])
def test_bad_usage_exits_2_before_any_work(args, tmp_path):
    rc, _, err = tune(args, tmp_path / "no-harness", tmp_path)
    assert rc == 2 and "Traceback" not in err


def test_a_harness_that_is_not_tritune_is_a_clear_error(tmp_path):
    rc, _, err = tune(["--quick"], "/bin/false", tmp_path)
    assert rc == 3 and "Traceback" not in err and "error" in err
    rc, _, err = tune(["--quick"], tmp_path / "nope", tmp_path)
    assert rc == 3 and "not found" in err


def test_whole_model_run_writes_consistent_results_and_compares_decode(fake, tmp_path):
    rc, out, err = tune(["--model", "dummy-3.8b", "--fresh"], fake, tmp_path)
    assert rc == 0, err
    d = mdir(tmp_path)
    doc = json.loads((d / "tuned.json").read_text())
    keys = {(e["format"], e["N"], e["threads"], e["M"]) for e in doc["entries"]}
    assert keys == {(f, n, t, m) for f in ("i2s", "tl2") for n in (1, tmain.DEFAULT_PREFILL_BATCH)
                    for t in (1, 2) for m in (256, 128)}
    for e in doc["entries"]:
        assert e["winner"] in e["ties"] and e["best"]["variant"] == e["winner"]
    import hashlib
    assert hashlib.sha256((d / "tuned.tsv").read_bytes()).hexdigest() == doc["tsv_sha256"]
    assert "untuned" in out and "+10.0%" in out and "min left" in err
    # a rerun measures nothing: every request is answered by the cache
    rc, out, err = tune(["--model", "dummy-3.8b", "--no-decode"], fake, tmp_path)
    assert rc == 0 and "measured 0 request(s)" in out
    # another generator: the cache is refused with a clear message, --fresh starts over
    rc, out, err = tune(["--model", "dummy-3.8b"], fake, tmp_path, env={"FAKE_GEN": "other"})
    assert rc == 3 and "measured under other conditions" in err and "--fresh" in err and "Traceback" not in err


def test_wrong_shaped_tuned_json_is_refused_before_measuring(fake, tmp_path):
    d = mdir(tmp_path)
    d.mkdir(parents=True)
    (d / "tuned.json").write_text('{"machine": {"generator_hash": "x"}, "entries": {"not": "a list"}}')
    rc, _, err = tune(["--quick"], fake, tmp_path)
    assert rc == 3 and "not a tuned.json" in err and not (d / "cache.jsonl").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_signal_leaves_consistent_files_and_the_rerun_resumes(sig, fake, tmp_path):
    p = tune(["--model", "dummy-7b", "--no-decode", "--fresh"], fake, tmp_path, env={"FAKE_DELAY": "0.05"},
             wait=False)
    cache = mdir(tmp_path) / "cache.jsonl"
    t0 = time.time()
    while time.time() - t0 < 60 and (not cache.exists() or len(cache.read_text().splitlines()) < 8):
        time.sleep(0.05)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    if sig != signal.SIGKILL:
        assert p.returncode == 128 + sig and "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("tune: interrupted by SIG")
    d = mdir(tmp_path)
    assert not [x for x in os.listdir(d) if x.endswith(".tmp")] or sig == signal.SIGKILL
    cached = len(cache.read_text().splitlines()) - 1
    rc, out, err = tune(["--model", "dummy-7b", "--no-decode"], fake, tmp_path)
    assert rc == 0, err
    assert f"{cached} answered from the cache" in out or f"{cached - 1} answered from the cache" in out
    assert not [x for x in os.listdir(d) if x.endswith(".tmp")]
    doc = json.loads((d / "tuned.json").read_text())
    tsv = [l for l in (d / "tuned.tsv").read_text().splitlines() if not l.startswith("#")]
    assert len(tsv) == len(doc["entries"]) == 16


def test_model_shapes_by_name_with_dots(tritune):
    shapes, name = tmain.model_shapes("bitnet-b1.58-2b-4t", tritune)
    assert shapes == [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)]
    assert name == "bitnet-b1.58-2b-4t"
    shapes, name = tmain.model_shapes("dummy-3.8b", tritune)
    assert shapes == [(3840, 3840), (8192, 3840), (3840, 8192)] and name == "dummy-3.8b"


def test_model_shapes_bad_config(tmp_path, tritune, capsys):
    p = tmp_path / "bad.json"
    p.write_text('{"hidden": 0, "ffn": 1, "heads": 1}')
    with pytest.raises(SystemExit) as e:
        tmain.model_shapes(str(p), tritune)
    assert e.value.code == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        tmain.model_shapes("no-such-model", tritune)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "cannot open model 'no-such-model'" in err and "bitnet-b1.58-2b-4t" in err


def test_harness_measures_an_explicit_list_with_raw_samples(tritune):
    """bench kernel --stdin: the variants in the order asked, passes, samples, probes."""
    vs = ["gemv_i2s_i8_c_r1u1a1p0", "gemv_i2s_i8_c_r4u1a1p0"]
    req = f"64x256 1 1 2 0.002 10 {','.join(vs)}\n64x256 1 1 1 0.002 10 no_such_variant\n"
    p = subprocess.run([str(tritune), "bench", "kernel", "--stdin", "--samples", "--stream-mib", "8", "--json"],
                       input=req, capture_output=True, text=True, timeout=120)
    rows = [json.loads(l) for l in p.stdout.splitlines()]
    k = [r for r in rows if r["kind"] == "kernel"]
    assert [(r["variant"], r["pass"]) for r in k] == [(vs[0], 0), (vs[1], 0), (vs[1], 1), (vs[0], 1)]
    assert all(r["status"] == "ok" and len(r["sample_ns"]) == r["samples"] >= 10 for r in k)
    assert sum(r["kind"] == "probe" for r in rows) == 3
    assert [r["kind"] for r in rows][-2:] == ["error", "done"]
