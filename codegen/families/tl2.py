"""TL2 GEMV and GEMM variants (lookup-table kernels).  Space, restrictions
and size formulas are shared with the other TL format: see _tl.py."""

from . import _tl

FAMILY = "tl2"


def restrict(isa, op, p):
    return _tl.restrict(FAMILY, isa, op, p)


def variants(arch):
    return _tl.variants(FAMILY, arch)
