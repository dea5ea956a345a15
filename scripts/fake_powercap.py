#!/usr/bin/env python3
"""A fake powercap tree whose energy counters advance at a known rate.

For checking tritune's energy path on machines without RAPL (docs/energy.md):

    scripts/fake_powercap.py /tmp/pc --watts 40 &
    TRITUNE_POWERCAP_ROOT=/tmp/pc build/bin/tritune bench decode --model dummy-125m --json
    kill %1

Creates DIR/intel-rapl:0 (package-0), DIR/intel-rapl:0:0 (core) and
DIR/intel-rapl:0:1 (dram), like /sys/class/powercap, then rewrites each
energy_uj every --period seconds with rate x elapsed time, wrapping at
max_energy_range_uj, until killed or --seconds have passed.  Each file is
replaced atomically (written to a temporary name, renamed), so a reader never
sees half a number.  The energy follows the clock, not the updates: a late
update is caught up by the next one.
"""
import argparse
import os
import signal
import sys
import time

ZONES = (("intel-rapl:0", "package-0", 1.0), ("intel-rapl:0:0", "core", 0.6), ("intel-rapl:0:1", "dram", 0.2))


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", help="directory to create the tree in (point TRITUNE_POWERCAP_ROOT at it)")
    ap.add_argument("--watts", type=float, default=40.0, help="package power (default 40 W; core 0.6x, dram 0.2x)")
    ap.add_argument("--max-range-j", type=float, default=262143.0,
                    help="max_energy_range_uj in joules: the counters wrap there (default 262143 J, a typical RAPL range)")
    ap.add_argument("--start-j", type=float, default=0.0, help="initial counter value in joules (default 0)")
    ap.add_argument("--period", type=float, default=0.001, help="seconds between updates (default 0.001)")
    ap.add_argument("--seconds", type=float, default=0.0, help="stop after this long (default: run until killed)")
    a = ap.parse_args(argv)
    if a.watts < 0 or a.max_range_j <= 0 or a.period <= 0 or not 0 <= a.start_j < a.max_range_j:
        ap.error("--watts >= 0, --max-range-j > 0, --period > 0 and 0 <= --start-j < --max-range-j")
    max_uj = int(a.max_range_j * 1e6)
    for d, name, _ in ZONES:
        os.makedirs(os.path.join(a.root, d), exist_ok=True)
        write(os.path.join(a.root, d, "name"), name + "\n")
        write(os.path.join(a.root, d, "max_energy_range_uj"), f"{max_uj}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    t0 = time.monotonic()
    while True:
        el = time.monotonic() - t0
        for d, _, share in ZONES:
            uj = int((a.start_j + a.watts * share * el) * 1e6) % max_uj
            write(os.path.join(a.root, d, "energy_uj"), f"{uj}\n")
        if a.seconds and el >= a.seconds:
            return 0
        time.sleep(a.period)


if __name__ == "__main__":
    sys.exit(main())
