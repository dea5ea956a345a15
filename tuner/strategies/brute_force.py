"""Every runnable variant on every point of the space, in one harness run
(one process: the bandwidth probe and every variant share the conditions)."""

OPTIONS = {}


def tune(space, runner, options, on_row=None):
    return runner.measure(space["format"], space["shapes"], space["batches"], space["threads"], on_row=on_row)
