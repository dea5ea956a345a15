"""Selection: the best verified variant per (op, format, M, K, N, threads, cache)."""

KEY = ("op", "format", "M", "K", "N", "threads", "cache")


def key_of(row):
    return tuple(row[k] for k in KEY)


def eligible(row):
    """Only verified rows that were measured can win (a fast wrong kernel never does)."""
    return row.get("kind") == "kernel" and row.get("status") == "ok" and row.get("verified") is True \
        and row.get("median_ns", 0) > 0


def summary(row):
    out = {k: row[k] for k in ("variant", "isa", "layout", "params", "median_ns", "p25_ns", "p75_ns", "cv",
                                "gbps", "gweights_per_s", "bw_gbps", "bw_fraction", "verified", "stable", "samples")
           if k in row}
    return out


def select(rows):
    """Group rows by KEY; return a list of entries sorted by key."""
    groups = {}
    for r in rows:
        if r.get("kind") != "kernel":
            continue
        groups.setdefault(key_of(r), []).append(r)
    entries = []
    for key in sorted(groups):
        rs = groups[key]
        ok = sorted((r for r in rs if eligible(r)), key=lambda r: r["median_ns"])
        e = dict(zip(KEY, key))
        e["candidates"] = len(rs)
        e["measured"] = len(ok)
        e["verify_failed"] = sum(1 for r in rs if r.get("status") == "verify_failed")
        e["rejected"] = sum(1 for r in rs if r.get("status") not in ("ok", "verify_failed"))
        if not ok:
            e["best"] = None
            e["error"] = "no verified variant could be measured for this shape"
        else:
            e["best"] = summary(ok[0])
            if len(ok) > 1:
                e["runner_up"] = summary(ok[1])
                # how much slower the runner-up is; compare with the spread before trusting it
                e["margin"] = ok[1]["median_ns"] / ok[0]["median_ns"] - 1.0
                iqr = (ok[0]["p75_ns"] - ok[0]["p25_ns"]) / ok[0]["median_ns"]
                e["margin_exceeds_spread"] = e["margin"] > iqr
            else:
                e["runner_up"] = None
                e["margin"] = None
        entries.append(e)
    return entries
