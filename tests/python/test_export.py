"""./tune.sh export and merge (tuner/export): each exporter round-trips
through a reader of its target's format, and merge keys by fingerprint."""

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schema" / "tuned.schema.json").read_text())


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tuner.export", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


def harness_json(tritune, *args):
    out = subprocess.run([str(tritune), *args, "--json"], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def pick(variants, op, fmt, want=lambda v: True):
    for v in variants:
        if v["op"] == op and v["format"] == fmt and v["runnable"] and want(v):
            return v
    pytest.skip(f"no runnable {op} {fmt} variant here")


def tiles(v):
    return dict((k, int(x)) for k, x in (p.split("=") for p in v["params"].split(",")) if x.isdigit())


def entry(v, M, K, N=1, threads=1, cache="streaming"):
    fig = {"variant": v["variant"], "isa": v["isa"], "layout": v["layout"], "params": v["params"],
           "median_ns": 1000.0 + M, "p25_ns": 990.0, "p75_ns": 1010.0, "cv": 0.01, "gbps": 10.0,
           "gweights_per_s": 20.0, "bw_gbps": 12.0, "bw_fraction": 0.8, "verified": True, "stable": True,
           "samples": 10}
    return {"op": v["op"], "format": v["format"], "M": M, "K": K, "N": N, "threads": threads, "cache": cache,
            "candidates": 3, "measured": 3, "best": fig, "runner_up": None, "margin": None,
            "ties": [], "a_field_from_a_later_tuner": {"x": 1}}


@pytest.fixture
def db(tritune, tmp_path):
    """A tuned.json of real variants of this build, with small shapes (the bundle test runs them)."""
    ctx = harness_json(tritune, "info")[0]
    vs = [r for r in harness_json(tritune, "list") if r.get("kind") == "variant"]
    tl2_32 = pick(vs, "gemv", "tl2", lambda v: tiles(v).get("bm") == 32 and 768 % tiles(v)["BK"] % 32 == 0
                  and 256 % tiles(v)["BM"] == 0)
    tl2_wide = [v for v in vs if v["op"] == "gemv" and v["format"] == "tl2" and tiles(v).get("bm", 0) > 32]
    tl1 = pick(vs, "gemv", "tl1", lambda v: tiles(v).get("bm") in (32, 64) and 512 % tiles(v)["BK"] == 0
               and 128 % tiles(v)["BM"] == 0)
    i2s = pick(vs, "gemv", "i2s")
    entries = [entry(tl2_32, 256, 768), entry(tl1, 128, 512), entry(i2s, 192, 640),
               entry(i2s, 192, 640, threads=2), entry(tl2_32, 96, 768)]   # 96 % BM != 0: not for bitnet
    if tl2_wide:
        entries.append(entry(tl2_wide[0], 64, 384))
    machine = {k: ctx.get(k) for k in ("machine_id", "cpu", "arch", "features", "cores", "logical_cpus", "l1d_bytes",
                                       "l2_bytes", "l3_bytes", "mem_total_bytes", "compiler", "build_type",
                                       "generator_hash")}
    doc = {"schema_version": 1, "generated_by": "test", "date": "2026-01-01T00:00:00Z", "machine": machine,
           "settings": {}, "bandwidth_gbps": {"1": 12.0, "2": 20.0}, "entries": entries}
    d = tmp_path / "results" / machine["machine_id"]
    d.mkdir(parents=True)
    (d / "tuned.json").write_text(json.dumps(doc))
    return d, doc


def test_json_roundtrip(db, tmp_path):
    d, doc = db
    r = run("export", "--to", "json", "--out", tmp_path / "o", "--results", d)
    assert r.returncode == 0, r.stderr
    back = json.loads((tmp_path / "o" / "tuned.json").read_text())
    jsonschema.validate(back, json.loads((tmp_path / "o" / "tuned.schema.json").read_text()))
    assert back["entries"] == doc["entries"] and back["machine"] == doc["machine"]


def test_bad_input_exit_codes(db, tmp_path):
    d, doc = db
    (tmp_path / "trunc").mkdir()
    (tmp_path / "trunc" / "tuned.json").write_text(json.dumps(doc)[:200])
    r = run("export", "--to", "json", "--out", tmp_path / "o1", "--results", tmp_path / "trunc")
    assert r.returncode == 2 and "not valid JSON" in r.stderr and not (tmp_path / "o1" / "tuned.json").exists()
    bad = dict(doc, entries=[dict(doc["entries"][0], M=0)])
    (tmp_path / "trunc" / "tuned.json").write_text(json.dumps(bad))
    r = run("export", "--to", "json", "--out", tmp_path / "o2", "--results", tmp_path / "trunc")
    assert r.returncode == 2 and "entries/0/M" in r.stderr
    r = run("export", "--to", "json", "--out", tmp_path / "o3", "--results", tmp_path / "nothing")
    assert r.returncode == 3 and "no tuning database" in r.stderr
    r = run("export", "--to", "nonsense", "--out", tmp_path / "o4", "--results", d)
    assert r.returncode == 2


def test_bitnet_roundtrip(db, tmp_path):
    d, doc = db
    r = run("export", "--to", "bitnet", "--out", tmp_path / "o", "--results", d, "--threads", "1")
    assert r.returncode == 0, r.stderr
    exported = {}
    for fmt in ("tl1", "tl2"):
        cp = configparser.ConfigParser()   # as bitnet.cpp reads it
        assert cp.read(tmp_path / "o" / fmt / "kernel_config.ini")
        for s in cp.sections():
            assert s.startswith("Kernels_") and set(cp[s]) == {"m", "k", "bm", "bk", "bmm"}
            exported[(fmt, cp.getint(s, "m"), cp.getint(s, "k"))] = (cp.getint(s, "bm"), cp.getint(s, "bk"),
                                                                     cp.getint(s, "bmm"))
    want = {}
    for e in doc["entries"]:
        t = tiles({"params": e["best"]["params"]})
        if e["format"] in ("tl1", "tl2") and e["threads"] == 1 and e["M"] % t["BM"] == 0 and \
                t["bm"] in ((32,) if e["format"] == "tl2" else (32, 64)):
            want[(e["format"], e["M"], e["K"])] = (t["BM"], t["BK"], t["bm"])
    assert exported == want and len(want) == 2
    report = (tmp_path / "o" / "EXPORT_REPORT.txt").read_text()
    assert "NOT EXPORTED gemv tl2 96x768" in report and "M % BM == 0 fails" in report
    assert "gemm-config.h" in report and "NOT EXPORTED gemv i2s 192x640 N=1 T=2" in report
    if any(tiles({"params": e["best"]["params"]}).get("bm", 0) > 32 for e in doc["entries"] if e["format"] == "tl2"):
        assert "bm must be in {32} for TL2" in report


def test_tmac_roundtrip(db, tmp_path):
    d, doc = db
    r = run("export", "--to", "tmac", "--out", tmp_path / "o", "--results", d)
    assert r.returncode == 0, r.stderr
    cp = configparser.ConfigParser()
    assert cp.read(tmp_path / "o" / "kcfg.ini")
    want = {}
    for e in doc["entries"]:
        t = tiles({"params": e["best"]["params"]})
        if e["format"] in ("tl1", "tl2") and e["threads"] == 1 and e["M"] % t["BM"] == 0:
            want.setdefault(f"qgemm_lut_t1_int8_m{2 * e['M']}_k{e['K']}_n{e['N']}_b2",
                            {"bm": 2 * t["BM"], "n_tile_num": e["M"] // t["BM"], "scales_size": 1,
                             "lut_scales_size": e["N"]})
    got = {s: {k: cp.getint(s, k) for k in cp[s]} for s in cp.sections()}
    assert got == want and want
    assert "simd_n_in" in (tmp_path / "o" / "kcfg.ini").read_text()   # named as not expressible
    assert "NOT EXPORTED gemv i2s" in (tmp_path / "o" / "EXPORT_REPORT.txt").read_text()


def cc_flags_for_tritune_lib():
    cache = (ROOT / "build" / "CMakeCache.txt").read_text() if (ROOT / "build" / "CMakeCache.txt").exists() else ""
    return ["-lhwloc"] if "hwloc" in cache.lower() and shutil.which("hwloc-ls") else []


def test_cbundle_builds_and_equals_reference_and_tritune(db, tmp_path):
    d, doc = db
    out = tmp_path / "bundle"
    r = run("export", "--to", "c-bundle", "--out", out, "--results", d)
    assert r.returncode == 0, r.stderr
    assert subprocess.run(["cmake", "-S", out, "-B", out / "build"], capture_output=True).returncode == 0
    b = subprocess.run(["cmake", "--build", out / "build", "-j2"], capture_output=True, text=True)
    assert b.returncode == 0, b.stdout + b.stderr
    demo = out / "example.c"   # the bundle's example program, compiled outside the repository
    exe = tmp_path / "demo"
    c = subprocess.run(["cc", "-O2", "-Wall", "-Werror", f"-I{out}", f"-I{out / 'src'}", str(demo),
                        str(out / "build" / "libtritune_tuned.a"), "-lm", "-o", str(exe)], capture_output=True, text=True)
    assert c.returncode == 0, c.stderr
    p = subprocess.run([str(exe)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    # the header's table is the source database: one row per entry, with its kernel
    rows = sorted(ln.split(":")[0] for ln in lines)
    want = sorted(f"{e['op']} {e['format']} {e['M']}x{e['K']} N={e['N']} T={e['threads']} {e['best']['variant']}"
                  for e in doc["entries"])
    assert rows == want
    assert all(ln.endswith("equals the reference") for ln in lines)
    # the same program linked against tritune's own runtime library gives the same outputs
    lib = ROOT / "build" / "libtritune_rt.a"
    if lib.exists():
        exe2 = tmp_path / "demo_tritune"
        c = subprocess.run(["cc", "-O2", f"-I{out}", f"-I{ROOT / 'runtime'}", str(demo), str(out / "tritune_run.c"),
                            str(lib), *cc_flags_for_tritune_lib(), "-lm", "-lpthread", "-o", str(exe2)],
                           capture_output=True, text=True)
        assert c.returncode == 0, c.stderr
        p2 = subprocess.run([str(exe2)], capture_output=True, text=True)
        assert p2.returncode == 0 and p2.stdout == p.stdout


def test_merge_two_machines(db, tmp_path):
    d, doc = db
    other = json.loads(json.dumps(doc))
    other["machine"].update(machine_id="masked-cpu-2c-00000001", features="avx2 f16c")
    other["entries"] = other["entries"][:2]
    o = tmp_path / "r2" / "masked-cpu-2c-00000001"
    o.mkdir(parents=True)
    (o / "tuned.json").write_text(json.dumps(other))
    r = run("merge", d, o, "--out", tmp_path / "m")
    assert r.returncode == 0, r.stderr
    fleet = json.loads((tmp_path / "m" / "fleet.json").read_text())
    assert set(fleet["machines"]) == {doc["machine"]["machine_id"], "masked-cpu-2c-00000001"}
    for mid, mdoc in fleet["machines"].items():
        jsonschema.validate(mdoc, SCHEMA)
        assert json.loads((tmp_path / "m" / mid / "tuned.json").read_text()) == mdoc
    assert fleet["machines"]["masked-cpu-2c-00000001"]["entries"] == other["entries"]
    rep = (tmp_path / "m" / "report.md").read_text()
    assert "masked-cpu-2c-00000001" in rep and "1T 12.0, 2T 20.0" in rep and "same winner" in rep
    # another generator: refused unless asked
    other["machine"]["generator_hash"] = "0000000000000000"
    (o / "tuned.json").write_text(json.dumps(other))
    r = run("merge", d, o, "--out", tmp_path / "m2")
    assert r.returncode == 2 and "--allow-mixed-generators" in r.stderr and not (tmp_path / "m2" / "fleet.json").exists()
    r = run("merge", d, o, "--out", tmp_path / "m3", "--allow-mixed-generators")
    assert r.returncode == 0 and len(json.loads((tmp_path / "m3" / "fleet.json").read_text())["generator_hashes"]) == 2


def test_bitnet_fit_exports_fastest_expressible(db, tritune, tmp_path):
    d, doc = db
    wide = [e for e in doc["entries"] if e["format"] == "tl2" and tiles({"params": e["best"]["params"]})["bm"] > 32]
    if not wide:
        pytest.skip("no TL2 variant with bm > 32 in this build")
    e = wide[0]
    vs = [r for r in harness_json(tritune, "list") if r.get("kind") == "variant"]
    alts = [v for v in vs if v["op"] == "gemv" and v["format"] == "tl2" and tiles(v).get("bm") == 32
            and e["M"] % tiles(v)["BM"] == 0 and e["K"] % tiles(v)["BK"] % 32 == 0]
    if not alts:
        pytest.skip("no expressible TL2 variant for the shape")
    rows = [dict({k: e[k] for k in ("op", "format", "M", "K", "N", "threads", "cache")}, kind="kernel",
                 variant=v["variant"], params=v["params"], status="ok", verified=True, median_ns=2000.0 + i)
            for i, v in enumerate(alts[:2])]
    rows.append(dict(rows[0], variant="unverified", params="BM=64,BK=96,bm=32", verified=False, median_ns=1.0))
    (d / "kernel_runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = run("export", "--to", "bitnet", "--fit", "--out", tmp_path / "o", "--results", d, "--threads", "1")
    assert r.returncode == 0, r.stderr
    cp = configparser.ConfigParser()
    cp.read(tmp_path / "o" / "tl2" / "kernel_config.ini")
    got = {(cp.getint(s, "m"), cp.getint(s, "k")): (cp.getint(s, "bm"), cp.getint(s, "bk"), cp.getint(s, "bmm"))
           for s in cp.sections()}
    t = tiles(alts[0])
    assert got[(e["M"], e["K"])] == (t["BM"], t["BK"], 32)   # the fastest verified expressible one
    assert f"exported the fastest expressible variant measured, {alts[0]['variant']}" in \
        (tmp_path / "o" / "EXPORT_REPORT.txt").read_text()
    assert run("export", "--to", "tmac", "--fit", "--out", tmp_path / "o2", "--results", d).returncode == 2


def test_slurm_fleet_submission(tmp_path):
    """scripts/slurm/fleet.sh against a stand-in sbatch: one array per partition with its own
    environment, then the merge job after all of them (afterok).  selftest.sh runs the real thing."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "sbatch.log"
    (bindir / "sbatch").write_text(
        "#!/bin/sh\nn=$(( $(wc -l < %s 2>/dev/null || echo 0) + 100 ))\n"
        "echo \"$n|$*|task_env=$TT_TASK_ENV|tune=$TT_TUNE_ARGS|out=$TT_OUT\" >> %s\necho \"$n;cluster\"\n" % (log, log))
    (bindir / "sbatch").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    fleet = ROOT / "scripts" / "slurm" / "fleet.sh"
    r = subprocess.run([str(fleet), "--out", str(tmp_path / "o"), "--partition", "a",
                        "--partition", "b:TRITUNE_CPU_MASK=43,X=1", "--tasks", "2", "--", "--quick", "--threads", "1,2"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["100", "101", "102"]
    a, b, m = log.read_text().splitlines()
    assert "--partition=a --array=0-1" in a and a.endswith(f"task_env=|tune=--quick --threads 1,2|out={tmp_path / 'o'}")
    assert "--partition=b --array=0-1" in b and "task_env=TRITUNE_CPU_MASK=43 X=1|" in b
    assert "--dependency=afterok:100:101" in m and m.split("|")[1].endswith("scripts/slurm/merge.sbatch")
    assert subprocess.run([str(fleet), "--partition", "a"], capture_output=True, env=env).returncode == 2
    assert subprocess.run([str(fleet), "--out", str(tmp_path / "o")], capture_output=True, env=env).returncode == 2
