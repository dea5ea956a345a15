"""Search strategies.  Each module exposes OPTIONS (name -> (default, help))
and search(m, options, seed) -> finalists: variant names, best first.
m is a space.Measurer: m.candidates (names with tile parameters) and
m.measure(variants, round, passes, time_scale).  The finalists go on to the
verdict (select.verdict), which re-measures them side by side.  A strategy
must be deterministic for a given seed and measured data, so that a rerun
asks for the same (round, variants) and the cache answers it."""

from . import brute_force, model, random_search, race

STRATEGIES = {"race": race, "brute_force": brute_force, "random": random_search, "model": model}
DEFAULT = "race"


def get(name):
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy '{name}' (have: {', '.join(sorted(STRATEGIES))})")
    return STRATEGIES[name]


def check_options(mod, options):
    """Options of a strategy: defaults, overridden by `options` (strings
    from the command line are converted to the default's type)."""
    unknown = set(options) - set(mod.OPTIONS)
    if unknown:
        raise ValueError(f"unknown option(s) for this strategy: {', '.join(sorted(unknown))} "
                         f"(have: {', '.join(sorted(mod.OPTIONS)) or 'none'})")
    out = {}
    for k, (d, _) in mod.OPTIONS.items():
        v = options.get(k, d)
        try:
            v = type(d)(v)
        except (TypeError, ValueError):
            raise ValueError(f"option {k} wants a {type(d).__name__}, got '{v}'")
        out[k] = v
    return out
