"""The report (tuner/report.py, scripts/report.sh) on a small recorded fixture:
every table and figure is written, the numbers in the tables are the ones the
rows imply, energy that was not measured is said to be so, ties are shown
whether tuned.json has them or not, and bad input is a clear error."""
import csv
import json
import shutil
from pathlib import Path

import pytest

from tuner import report

# matplotlib 3.9 calls pyparsing names that newer pyparsing deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FIX = Path(__file__).parent / "fixtures" / "report"


def copy_fixture(base):
    d = base / "results" / "machine"
    shutil.copytree(FIX, d)
    (d / "README.md").unlink()
    return d


@pytest.fixture
def folder(tmp_path):
    """A fresh copy of the fixture, for tests that change it."""
    return copy_fixture(tmp_path)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The fixture's folder with its report written once (the figures take seconds)."""
    d = copy_fixture(tmp_path_factory.mktemp("report"))
    return d, report.write_report(d, quiet=True)


def rows(d, name="decode_runs.jsonl"):
    return [json.loads(l) for l in (d / name).read_text().splitlines() if l.strip()]


def read_csv(p):
    with open(p) as f:
        return list(csv.DictReader(f))


def test_everything_written(written):
    folder, out = written
    assert out == folder / "report"
    names = {p.name for p in out.iterdir()}
    for fig in ("tokens_vs_size", "roofline", "tuning_gemv_640x2560_N1_streaming"):
        assert {f"{fig}.png", f"{fig}.svg"} <= names, names
        assert (out / f"{fig}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{fig}.svg").read_text().lstrip().startswith("<?xml")
    assert {"index.md", "decode_tg.csv", "decode_pp.csv", "energy.csv", "tuning.csv"} <= names
    md = (out / "index.md").read_text()
    for title in ("## Machine", "## Generation (tg)", "## Prefill (pp)", "## Energy", "## Figures",
                  "## Tuning space"):
        assert title in md
    for f in names - {"index.md"}:
        if f.endswith((".png", ".csv")):
            assert f in md, f"{f} is not linked from index.md"
    # the machine context at the top, from the recorded context
    ctx = rows(folder)[0]
    assert md.index(ctx["machine_id"]) < md.index("## Generation")
    assert f"core {ctx['openblas_core']}" in md
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == [], "a temporary folder was left"


def test_decode_table_numbers(written):
    folder, out = written
    got = read_csv(out / "decode_tg.csv")
    src = {(r["model"], r["threads"], r["format"]): r for r in rows(folder)
           if r["kind"] == "decode" and r["phase"] == "tg"}
    assert len(got) == len(src) == 12
    for g in got:
        r = src[(g["model"], int(g["threads"]), g["format"])]
        assert float(g["tokens_per_s"]) == pytest.approx(r["tokens_per_s"])
        assert g["test"] == "tg16"
        assert float(g["roofline_fraction"]) == pytest.approx(r["bw_fraction"])
        fp16, fp32 = src[(g["model"], int(g["threads"]), "fp16")], src[(g["model"], int(g["threads"]), "fp32")]
        if g["format"] == "fp16":
            assert g["speedup_fp16"] == ""
        else:
            assert float(g["speedup_fp16"]) == pytest.approx(r["tokens_per_s"] / fp16["tokens_per_s"])
        if g["format"] != "fp32":
            assert float(g["speedup_fp32"]) == pytest.approx(r["tokens_per_s"] / fp32["tokens_per_s"])
    # ordered by model size
    assert [g["model"] for g in got].index("dummy-125m") > [g["model"] for g in got].index("tiny")


def test_energy_table(written):
    folder, out = written
    got = read_csv(out / "energy.csv")
    src = {(r["model"], r["threads"], r["phase"], r["format"]): r for r in rows(folder) if r["kind"] == "decode"}
    # the tiny model's phases are too short for the energy counter: null in the rows, left out here
    assert len(got) == sum(r["joules_per_token"] is not None for r in src.values()) == 12
    for g in got:
        ph = g["test"][:2]
        r = src[(g["model"], int(g["threads"]), ph, g["format"])]
        assert float(g["J/token"]) == pytest.approx(r["joules_per_token"])
        base = src[(g["model"], int(g["threads"]), ph, "fp16")]
        if g["format"] != "fp16":
            assert float(g["reduction vs fp16"]) == pytest.approx(1 - r["joules_per_token"] / base["joules_per_token"])
        assert g["method"] == "powercap" and g["domain"] == "package"


def test_energy_not_measured(folder):
    lines = []
    for r in rows(folder):
        if r["kind"] == "decode":
            for k in ("joules", "joules_per_token", "energy_method", "energy_domain", "idle_watts"):
                r[k] = None
            r["energy_unavailable"] = "powercap /sys/class/powercap: No such file or directory"
        lines.append(json.dumps(r))
    (folder / "decode_runs.jsonl").write_text("\n".join(lines) + "\n")
    out = report.write_report(folder, quiet=True)
    md = (out / "index.md").read_text()
    assert "Energy: **not measured here** (powercap /sys/class/powercap: No such file or directory)" in md
    assert not (out / "energy.csv").exists()
    assert all(g["joules_per_token"] == "" for g in read_csv(out / "decode_tg.csv"))


def test_ties_present_or_absent(written, tmp_path):
    folder, out = written
    t = read_csv(out / "tuning.csv")
    doc = json.loads((folder / "tuned.json").read_text())
    assert [r["best"] for r in t] == [e["best"]["variant"] for e in doc["entries"]]
    assert t[0]["ties"] == doc["entries"][0]["ties"][0]
    assert t[1]["ties"].startswith("(no ties list)")
    # a ties list of objects (variant + figures) works too
    doc["entries"][0]["ties"] = [{"variant": "gemv_x", "gbps": 1.0}]
    assert report.tuning_table({"tuned": doc})[0][-1] == "gemv_x"


def test_report_replaced(folder):
    """A second run replaces the report whole; nothing temporary is left."""
    (folder / "decode_runs.jsonl").unlink()
    (folder / "report").mkdir()
    (folder / "report" / "stale.md").write_text("old")
    out = report.write_report(folder, quiet=True)
    assert not (out / "stale.md").exists() and (out / "index.md").exists()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_kernels_only(folder):
    (folder / "decode_runs.jsonl").unlink()
    md = (report.write_report(folder, quiet=True) / "index.md").read_text()
    assert "No tg rows recorded here" in md and "not measured here" in md
    assert "tokens_vs_size: no rows to draw" in md


def test_bad_input(folder, tmp_path, capsys):
    with pytest.raises(report.ReportError, match="no such results folder"):
        report.load(tmp_path / "nope")
    (folder / "decode_runs.jsonl").write_text('{"kind": "decode"\n')
    with pytest.raises(report.ReportError, match=r"decode_runs.jsonl:1: not a JSON line"):
        report.load(folder)
    assert report.main([str(folder)]) == 2
    assert "not a JSON line" in capsys.readouterr().err
    assert not (folder / "report").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report.main([str(empty)]) == 2


def test_quantized_head_rows_kept_apart(folder):
    """A run with --lm-head q4 never stands in the papers' table for the fp16-head run of the same
    model, format and threads (whichever was recorded last); it gets its own table with its ratio.
    The report folder is readable by others, as the results files are (not mkdtemp's 0700)."""
    src = rows(folder)
    base = next(r for r in src if r.get("kind") == "decode" and r.get("phase") == "tg"
                and r.get("status") == "ok" and r.get("format") == "i2s")
    q4 = dict(base, lm_head="q4", tokens_per_s=base["tokens_per_s"] * 1.5, head_top1=0.99, head_kl=0.04,
              head_max_rel_diff=0.15)
    with open(folder / "decode_runs.jsonl", "a") as f:
        f.write(json.dumps(q4) + "\n")
    out = report.write_report(folder, quiet=True)
    tg = [g for g in read_csv(out / "decode_tg.csv")
          if (g["model"], int(g["threads"]), g["format"]) == (base["model"], base["threads"], "i2s")]
    assert len(tg) == 1 and float(tg[0]["tokens_per_s"]) == pytest.approx(base["tokens_per_s"], rel=1e-3)
    md = (out / "index.md").read_text()
    assert "### Quantized LM heads" in md and "1.50x" in md
    assert (out.stat().st_mode & 0o055) != 0, oct(out.stat().st_mode)
