"""The ISAs tritune generates for: compiler flags, required CPU features and
target architecture.  codegen/isa_flags.cmake mirrors the flags for
hand-written per-ISA units; tests/python/test_codegen.py checks they agree."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Isa:
    name: str
    arch: tuple          # architectures where it compiles ("x86_64", "aarch64")
    flags: tuple         # compiler flags for its compilation units
    features: tuple      # TT_FEAT_* names (runtime/cpu.h) a CPU must have
    rank: int            # preference among ISAs for untuned defaults (higher first)


_X86_AVX512 = ("-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq")

ISAS = {
    "c": Isa("c", ("x86_64", "aarch64"), (), (), 0),
    "avx2": Isa("avx2", ("x86_64",), ("-mavx2", "-mfma", "-mf16c"), ("AVX2",), 10),
    "avx512": Isa("avx512", ("x86_64",), _X86_AVX512, ("AVX2", "AVX512F", "AVX512BW"), 20),
    "avx512vnni": Isa("avx512vnni", ("x86_64",), _X86_AVX512 + ("-mavx512vnni",),
                      ("AVX2", "AVX512F", "AVX512BW", "AVX512VNNI"), 30),
    "avx512vbmi": Isa("avx512vbmi", ("x86_64",), _X86_AVX512 + ("-mavx512vnni", "-mavx512vbmi"),
                      ("AVX2", "AVX512F", "AVX512BW", "AVX512VNNI", "AVX512VBMI"), 35),
    # AMX-INT8 tile kernels (tdpbsud); weights are decoded with AVX-512BW.
    # The process must be granted tile state (arch_prctl), which
    # tt_cpu_features() asks for: without it AMXINT8 is absent.
    "amx": Isa("amx", ("x86_64",), _X86_AVX512 + ("-mavx512vnni", "-mamx-tile", "-mamx-int8"),
               ("AVX2", "AVX512F", "AVX512BW", "AMXINT8"), 40),
    "neon": Isa("neon", ("aarch64",), ("-march=armv8-a",), ("NEON",), 10),
    "neondot": Isa("neondot", ("aarch64",), ("-march=armv8.2-a+dotprod",), ("NEON", "DOTPROD"), 20),
}


def isas_for(arch):
    return [i for i in ISAS.values() if arch in i.arch]
