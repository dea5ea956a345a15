"""A fake build/bin/tritune for the tuner's process-level tests (signals,
resume, bad harness): the commands and JSON rows the tuner uses, with
deterministic timings.  FAKE_DELAY: seconds per bench kernel request;
FAKE_GEN: the generator hash it reports."""
import json
import os
import random
import sys
import time
import zlib

GEN = os.environ.get("FAKE_GEN", "fakegen0000000001")
CTX = {"kind": "context", "machine_id": "fake-machine-1", "cpu": "Fake CPU", "arch": "x86_64",
       "features": "avx2 avx512f", "cores": 2, "logical_cpus": 2, "l1d_bytes": 1, "l2_bytes": 2, "l3_bytes": 3,
       "mem_total_bytes": 4, "compiler": "fake", "build_type": "Release", "generator_hash": GEN, "warning": None}
VARIANTS = [("gemv", f"gemv_i2s_i8_fake_r{r}p{p}", f"rows={r},prefetch={p}") for r in (1, 2, 4) for p in (0, 2048)] + \
           [("gemm", f"gemm_i2s_i8_fake_t{t}", f"ntok={t}") for t in (1, 4)] + \
           [("gemv", "gemv_tl2_lut16_fake_bm32", "bm=32"), ("gemm", "gemm_tl2_lut16_fake_t1", "ntok=1")]


def out(r):
    sys.stdout.write(json.dumps(r) + "\n")
    sys.stdout.flush()


def speed(name, M, K, N, T):
    base = M * K / 4 / 10.0 / T  # ns at 10 GB/s
    h = zlib.crc32(name.encode()) % 1000 / 1000.0
    return base * (1 + 0.3 * h)


def serve():
    delay = float(os.environ.get("FAKE_DELAY", "0"))
    out(CTX)
    for line in sys.stdin:
        f = line.split()
        if len(f) < 7:
            out({"kind": "error", "message": "bad request"})
            out({"kind": "done"})
            continue
        M, K = map(int, f[0].split("x"))
        N, T, passes = int(f[1]), int(f[2]), int(f[3])
        time.sleep(delay)
        rng = random.Random(line)
        out({"kind": "probe", "M": M, "K": K, "N": N, "threads": T, "cache": "streaming", "after_pass": -1,
             "gbps": 10.0 * T, "strategy": "plain"})
        for p in range(passes):
            for v in f[6].split(","):
                op = next(o for o, n, _ in VARIANTS if n == v)
                t = speed(v, M, K, N, T)
                s = [int(t * (1 + 0.01 * rng.random())) for _ in range(12)]
                out({"kind": "kernel", "variant": v, "op": op, "format": v.split("_")[1], "isa": "fake",
                     "layout": "x", "params": "", "M": M, "K": K, "N": N, "threads": T, "cache": "streaming",
                     "pass": p, "status": "ok", "verified": True, "median_ns": sorted(s)[6], "sample_ns": s,
                     "weight_bytes": M * K // 4})
        out({"kind": "probe", "M": M, "K": K, "N": N, "threads": T, "cache": "streaming", "after_pass": 0,
             "gbps": 10.0 * T, "strategy": "plain"})
        out({"kind": "done"})


def main(a):
    if a[:1] == ["info"]:
        out(CTX)
        out({"kind": "info", "machine_id": CTX["machine_id"], "cpu": CTX["cpu"], "cores": 2, "features": "avx2"})
    elif a[:1] == ["list"] and "--shapes" in a:
        model = a[a.index("--model") + 1]
        out(CTX)
        for M, K in ((256, 128), (128, 256)):
            out({"kind": "shape", "model": model, "M": M, "K": K})
    elif a[:1] == ["list"]:
        out(CTX)
        for op, n, params in VARIANTS:
            out({"kind": "variant", "variant": n, "op": op, "format": n.split("_")[1], "isa": "fake", "layout": "x",
                 "params": params, "runnable": True})
    elif a[:1] == ["verify"]:
        out(CTX)
        for op, n, _ in VARIANTS:
            out({"kind": "verify", "variant": n, "status": "pass"})
    elif a[:2] == ["bench", "kernel"] and "--stdin" in a:
        serve()
    elif a[:2] == ["bench", "decode"]:
        out(CTX)
        tuned = "--tuning" in a
        for ph in ("pp", "tg"):
            out({"kind": "decode", "status": "ok", "phase": ph, "tokens_per_s": 11.0 if tuned else 10.0,
                 "bw_fraction": 0.5, "gemv_variant": "g", "gemm_variant": "m"})
    else:
        print(f"fake tritune: unknown command {a}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
