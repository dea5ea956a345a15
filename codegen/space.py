"""The variant model: one Variant per generated kernel, its canonical name,
and the declared tile parameters shared by every family.

The canonical name ``<op>_<wfmt>_<afmt>_<isa>_<tiles>`` is rendered here
once and used as the C symbol, the tuning-cache key and the results row id.
"""

from dataclasses import dataclass, field
import itertools
import re

from .isas import ISAS

# Tile parameter -> short code used in names.  Order here is name order.
TILE_CODES = {
    "rows": "r",      # rows per step sharing activation loads
    "kunroll": "u",   # K blocks per inner iteration
    "accs": "a",      # independent accumulators per row
    "decode": "d",    # 2-bit decode: 0 shift+and, 1 in-place mask (per-plane accumulators)
    "prefetch": "p",  # software prefetch distance, bytes (0 = none)
    "spread": "s",    # GEMV: 1 = the rows of a step a rows-th of the range apart (far streams)
    "ntok": "t",      # tokens per register block (GEMM)
    "BM": "BM",       # rows per tile, the unit of thread parallelism (TL)
    "BK": "BK",       # K per block (TL)
    "bm": "bm",       # rows per SIMD compute block (TL)
}

OPS = ("gemv", "gemm")
WFORMATS = ("i2s", "tl1", "tl2")
C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RestrictionError(ValueError):
    """A parameter combination that must never be generated."""


@dataclass(frozen=True)
class Variant:
    op: str                 # "gemv" | "gemm"
    wfmt: str               # "i2s" | "tl1" | "tl2"
    afmt: str               # activation format, "i8" or "lut16" ...
    isa: str                # key of codegen.isas.ISAS
    template: str           # templates/<template>
    tiles: tuple            # ((param, value), ...) in TILE_CODES order
    layout: str             # weight layout name; canonical = wfmt
    ref: str                # C scalar reference (runtime/ref*.c)
    repack: str = None      # C repack function (and <repack>_bytes), None = canonical
    act_prep: str = None    # C activation-prep function (and <act_prep>_bytes)
    m_align: int = 1
    k_align: int = 1
    min_k: int = 1
    max_k: int = 1 << 30
    max_n: int = 0          # 1 for GEMV, 0 = unbounded
    row_align: int = 1
    prio: int = 0           # prior for untuned defaults (higher first)
    extra: tuple = field(default=())   # other template-only parameters

    @property
    def t(self):
        return dict(self.tiles)

    @property
    def tile_str(self):
        return "".join(f"{TILE_CODES[k]}{v}" for k, v in self.tiles)

    @property
    def name(self):
        return f"{self.op}_{self.wfmt}_{self.afmt}_{self.isa}_{self.tile_str}"

    @property
    def params(self):
        return ",".join(f"{k}={v}" for k, v in self.tiles)

    def check(self):
        """Structural checks common to every family; raise RestrictionError."""
        if self.op not in OPS:
            raise RestrictionError(f"{self.name}: unknown op {self.op}")
        if self.wfmt not in WFORMATS:
            raise RestrictionError(f"{self.name}: unknown format {self.wfmt}")
        if self.isa not in ISAS:
            raise RestrictionError(f"{self.name}: unknown ISA {self.isa}")
        keys = [k for k, _ in self.tiles]
        if keys != [k for k in TILE_CODES if k in keys]:
            raise RestrictionError(f"{self.name}: tiles not in canonical order: {keys}")
        for k, v in self.tiles:
            if not isinstance(v, int) or v < 0:
                raise RestrictionError(f"{self.name}: tile {k}={v!r} must be a non-negative int")
        if not C_IDENT.match(self.name):
            raise RestrictionError(f"{self.name}: not a C identifier")
        if self.op == "gemv" and self.max_n != 1:
            raise RestrictionError(f"{self.name}: a GEMV variant must declare max_n = 1")
        for a in ("m_align", "k_align", "min_k", "row_align"):
            if getattr(self, a) < 1:
                raise RestrictionError(f"{self.name}: {a} must be >= 1")
        if self.max_k < self.min_k:
            raise RestrictionError(f"{self.name}: max_k < min_k")


def grid(**axes):
    """Cartesian product of named axes as dicts, in the given order."""
    keys = list(axes)
    for vals in itertools.product(*(axes[k] for k in keys)):
        yield dict(zip(keys, vals))


def tiles_of(d):
    """Dict of tile params -> ordered tuple (TILE_CODES order)."""
    unknown = set(d) - set(TILE_CODES)
    if unknown:
        raise RestrictionError(f"unknown tile parameters {sorted(unknown)}")
    return tuple((k, d[k]) for k in TILE_CODES if k in d)
