"""Kernel families. Each module exposes FAMILY (the weight format) and
``variants(arch)`` returning the list of valid :class:`codegen.space.Variant`.
Register a new family by adding its module name to FAMILIES."""

FAMILIES = ["i2s", "i2s_neon", "i2s_amx", "tl1", "tl2"]
