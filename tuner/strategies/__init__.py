"""Search strategies: each module exposes OPTIONS (name -> (default, help))
and tune(space, runner, options) -> list of kernel rows.  The registry maps
names to modules; unknown strategy names or options are errors."""

from . import brute_force

STRATEGIES = {"brute_force": brute_force}


def get(name):
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy '{name}' (have: {', '.join(sorted(STRATEGIES))})")
    return STRATEGIES[name]


def check_options(mod, options):
    unknown = set(options) - set(mod.OPTIONS)
    if unknown:
        raise ValueError(f"unknown option(s) for strategy: {', '.join(sorted(unknown))}")
    return {k: options.get(k, d) for k, (d, _) in mod.OPTIONS.items()}
