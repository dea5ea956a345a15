"""Runs the C harness and streams its JSON-lines records.

The runner is the only place that starts processes; strategies and tests
use a runner object with the same interface (tests replay a fixture)."""

import json
import subprocess
import sys


class HarnessError(RuntimeError):
    """The harness failed: rc is its exit code (None when it printed garbage), stderr its message."""

    def __init__(self, msg, rc=None, stderr=""):
        super().__init__(msg)
        self.rc = rc
        self.stderr = stderr


class Runner:
    """Measures variants with build/bin/tritune."""

    def __init__(self, tritune, min_time=0.05, stream_mib=1024, cache="streaming", progress=True):
        self.tritune = str(tritune)
        self.min_time = min_time
        self.stream_mib = stream_mib
        self.cache = cache
        self.progress = progress

    def _run(self, args, on_row=None, cwd=None):
        cmd = [self.tritune] + args + ["--json"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        rows = []
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                proc.kill()
                raise HarnessError(f"harness printed a line that is not JSON ({e}): {line[:200]}")
            rows.append(rec)
            if on_row:
                on_row(rec)
        err = proc.stderr.read()
        rc = proc.wait()
        # exit 1 = some rows failed verification or measurement: they are rows, not aborts
        if rc not in (0, 1):
            raise HarnessError(f"{' '.join(cmd)} exited {rc}: {err.strip()}", rc, err.strip())
        return rows

    def context(self):
        rows = self._run(["info"])
        ctx = next(r for r in rows if r["kind"] == "context")
        info = next(r for r in rows if r["kind"] == "info")
        return ctx, info

    def variants(self, fmt="i2s"):
        rows = self._run(["list"])
        return [r for r in rows if r["kind"] == "variant" and r["format"] == fmt]

    def model_shapes(self, model, cwd=None):
        """Shape rows of a model (`tritune list --model MODEL --shapes`): one per
        distinct BitLinear (M, K), in the order of the model's tensors.  Names
        resolve in models/dummy under cwd."""
        return [r for r in self._run(["list", "--model", model, "--shapes"], cwd=cwd) if r["kind"] == "shape"]

    def verify(self, glob="*"):
        return [r for r in self._run(["verify", "--variant", glob]) if r["kind"] == "verify"]

    def measure(self, fmt, shapes, batches, threads, variant_glob=None, on_row=None):
        """Kernel rows for every runnable variant of fmt (optionally a glob)."""
        args = ["bench", "kernel", "--format", fmt,
                "--shape", ",".join(f"{m}x{k}" for m, k in shapes),
                "--batch", ",".join(map(str, batches)),
                "--threads", ",".join(map(str, threads)),
                "--cache", self.cache, "--min-time", str(self.min_time),
                "--stream-mib", str(self.stream_mib)]
        if variant_glob:
            args += ["--variant", variant_glob]
        return [r for r in self._run(args, on_row) if r["kind"] in ("kernel", "context")]
