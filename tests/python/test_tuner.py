"""Tuner logic without hardware: a simulated runner replays a fixture."""
import json
from pathlib import Path

import pytest

from tuner import select as sel
from tuner import strategies
import tuner.__main__ as tmain

FIX = Path(__file__).parent / "fixtures" / "kernel_rows.jsonl"


def rows():
    return [json.loads(l) for l in FIX.read_text().splitlines() if l.strip()]


def test_select_picks_fastest_verified():
    e = {(x["M"], x["threads"]): x for x in sel.select(rows())}
    best = e[(6912, 1)]
    # the fastest row in the fixture failed verification: it must never win
    assert best["best"]["variant"] == "gemv_i2s_i8_avx512vnni_r4u1a4d1p2048"
    assert best["verify_failed"] == 1
    assert best["runner_up"]["variant"] == "gemv_i2s_i8_avx2_r4u1a1p2048"
    assert best["margin"] == pytest.approx(500 / 400 - 1)


def test_select_reports_unmeasurable_key():
    e = {(x["M"], x["threads"]): x for x in sel.select(rows())}
    assert e[(640, 1)]["best"] is None and "no verified" in e[(640, 1)]["error"]


class FakeRunner:
    def __init__(self, rs):
        self.rs = rs
        self.calls = []

    def measure(self, fmt, shapes, batches, threads, variant_glob=None, on_row=None):
        self.calls.append((fmt, tuple(shapes), tuple(batches), tuple(threads)))
        out = [r for r in self.rs if r["kind"] == "context" or ((r["M"], r["K"]) in shapes and r["threads"] in threads)]
        for r in out:
            if on_row:
                on_row(r)
        return out


@pytest.mark.parametrize("name", sorted(strategies.STRATEGIES))
def test_every_strategy_replays(name):
    mod = strategies.get(name)
    opts = strategies.check_options(mod, {})
    runner = FakeRunner(rows())
    seen = []
    out = mod.tune({"format": "i2s", "shapes": [(6912, 2560)], "batches": [1], "threads": [1]}, runner, opts,
                   on_row=seen.append)
    assert runner.calls and out and seen
    entries = sel.select(out)
    assert entries[0]["best"]["variant"] == "gemv_i2s_i8_avx512vnni_r4u1a4d1p2048"


def test_unknown_strategy_and_option():
    with pytest.raises(ValueError):
        strategies.get("simulated_annealing_v9")
    with pytest.raises(ValueError):
        strategies.check_options(strategies.get("brute_force"), {"bogus": 1})


def test_model_shapes_from_config(tmp_path, tritune):
    # the shapes come from the harness's tensor walk: the config must be one the C side accepts
    p = tmp_path / "m.json"
    p.write_text(json.dumps({"name": "m", "hidden": 2560, "ffn": 6912, "layers": 2, "heads": 20, "kv_heads": 5,
                             "head_dim": 128, "vocab": 1000, "activation": "relu2"}))
    shapes, name = tmain.model_shapes(str(p), tritune)
    assert shapes == [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)]
    assert name == "m"


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
    with pytest.raises(SystemExit) as e:
        tmain.model_shapes(str(tmp_path / "missing.json"), tritune)
    assert e.value.code == 2
    capsys.readouterr()
    # an unknown name: the harness's message (which lists the models) and its exit code
    with pytest.raises(SystemExit) as e:
        tmain.model_shapes("no-such-model", tritune)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "cannot open model 'no-such-model'" in err and "bitnet-b1.58-2b-4t" in err


def test_model_shapes_without_harness(tmp_path):
    with pytest.raises(SystemExit) as e:
        tmain.model_shapes("tiny", tmp_path / "nope")
    assert e.value.code == 3


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "tuned.json"
    tmain.atomic_write(target, "first")

    with pytest.raises(TypeError):
        tmain.atomic_write(target, None)   # write fails mid-way
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["tuned.json"]


def test_unwritable_results_dir_fails_before_measuring(tmp_path, tritune):
    harness = tritune
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "file").write_text("x")
    with pytest.raises(SystemExit) as e:
        # a results "directory" that is a file cannot hold a machine folder
        tmain.main(["--quick", "--results", str(ro / "file"), "--tritune", str(harness)])
    assert e.value.code == 3
    assert not any(p.name.endswith(".tmp") for p in ro.rglob("*"))


def test_missing_harness_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit) as e:
        tmain.main(["--quick", "--tritune", str(tmp_path / "nope")])
    assert e.value.code == 3


def test_merge_keeps_other_keys_and_replaces_same_keys():
    new = sel.select(rows())
    e0 = next(e for e in new if e["best"])
    key = sel.key_of(e0)
    old_other = dict(e0, M=999, best={"variant": "old"})
    old_same = dict(e0, best={"variant": "stale"})
    old = {"machine": {"generator_hash": "h1"}, "entries": [old_other, old_same]}
    merged, kept, note = tmain.merge_entries(old, new, "h1")
    assert kept == 1 and note is None
    assert any(sel.key_of(e) == sel.key_of(old_other) for e in merged)
    assert [e for e in merged if sel.key_of(e) == key][0]["best"]["variant"] != "stale"
    merged, kept, note = tmain.merge_entries(old, new, "h2")   # another generator: old entries dropped
    assert kept == 0 and "another generator" in note and merged == new
