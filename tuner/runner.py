"""Runs the C harness and streams its JSON-lines records.

The runner is the only place that starts processes; strategies and tests
use objects with the same interface (tests replay a fixture).  Measuring
goes through a Session: one `tritune bench kernel --stdin` process per
format that answers requests (a key and a list of variants) with raw
per-sample times, keeping its bandwidth-probe buffer and weight copies
between requests."""

import json
import subprocess


class HarnessError(RuntimeError):
    """The harness failed: rc is its exit code (None when it printed garbage), stderr its message."""

    def __init__(self, msg, rc=None, stderr=""):
        super().__init__(msg)
        self.rc = rc
        self.stderr = stderr


def _parse(line, cmd, proc=None):
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        if proc:
            proc.kill()
        raise HarnessError(f"{cmd} printed a line that is not JSON ({e}): {line[:200]!r}")
    if not isinstance(rec, dict) or "kind" not in rec:
        if proc:
            proc.kill()
        raise HarnessError(f"{cmd} printed a line that is not a record: {line[:200]!r}")
    return rec


class Session:
    """A `tritune bench kernel --stdin` process for one format and cache state."""

    def __init__(self, tritune, fmt, cache, stream_mib):
        self.cmd = [str(tritune), "bench", "kernel", "--stdin", "--samples", "--format", fmt, "--cache", cache,
                    "--stream-mib", str(stream_mib), "--json"]
        try:
            # its own session: a Ctrl-C at the terminal reaches the tuner, which ends it
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, start_new_session=True)
        except OSError as e:
            raise HarnessError(f"cannot run {self.cmd[0]}: {e}", 3)
        self.context = None

    def _dead(self):
        err = self.proc.stderr.read() if self.proc.stderr else ""
        rc = self.proc.wait()
        return HarnessError(f"{' '.join(self.cmd)} exited {rc}: {err.strip()}", rc, err.strip())

    def request(self, M, K, N, T, passes, min_time, min_samples, variants):
        """(kernel rows, probe rows) of one request."""
        line = f"{M}x{K} {N} {T} {passes} {min_time:.6g} {min_samples} {','.join(variants)}\n"
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._dead()
        krows, prows = [], []
        for out in self.proc.stdout:
            out = out.strip()
            if not out:
                continue
            rec = _parse(out, "bench kernel --stdin", self.proc)
            kind = rec["kind"]
            if kind == "done":
                return krows, prows
            if kind == "error":
                raise HarnessError(f"bench kernel refused a request: {rec.get('message')}", 3)
            if kind == "context":
                self.context = rec
            elif kind == "kernel":
                krows.append(rec)
            elif kind == "probe":
                prows.append(rec)
        raise self._dead()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Runner:
    """The harness: info, list, verify, and measuring sessions."""

    def __init__(self, tritune, min_time=0.05, stream_mib=1024, cache="streaming", progress=True):
        self.tritune = str(tritune)
        self.min_time = min_time
        self.stream_mib = stream_mib
        self.cache = cache
        self.progress = progress
        self.sessions = {}

    def _run(self, args, on_row=None, cwd=None):
        cmd = [self.tritune] + args + ["--json"]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                                    start_new_session=True)
        except OSError as e:
            raise HarnessError(f"cannot run the harness {self.tritune}: {e}", 3)
        rows = []
        try:
            for line in proc.stdout:
                line = line.strip()
                if not line:
                    continue
                rec = _parse(line, " ".join(cmd), proc)
                rows.append(rec)
                if on_row:
                    on_row(rec)
            err = proc.stderr.read()
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # exit 1 = some rows failed verification or measurement: they are rows, not aborts
        if rc not in (0, 1):
            raise HarnessError(f"{' '.join(cmd)} exited {rc}: {err.strip()}", rc, err.strip())
        return rows

    def context(self):
        rows = self._run(["info"])
        ctx = next((r for r in rows if r["kind"] == "context"), None)
        info = next((r for r in rows if r["kind"] == "info"), None)
        if not ctx or not info or "machine_id" not in info or "cores" not in info:
            raise HarnessError(f"{self.tritune} is not the tritune harness: `info --json` printed no machine "
                               "description (build it with scripts/setup.sh)", 3)
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

    def session(self, fmt):
        if fmt not in self.sessions:
            self.sessions[fmt] = Session(self.tritune, fmt, self.cache, self.stream_mib)
        return self.sessions[fmt]

    def request(self, key, variants, passes, min_time, min_samples=10):
        return self.session(key.format).request(key.M, key.K, key.N, key.threads, passes, min_time, min_samples,
                                                variants)

    def close(self):
        for s in self.sessions.values():
            s.close()
        self.sessions = {}
