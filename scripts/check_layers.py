#!/usr/bin/env python3
"""Check that tritune's C sources keep their layers (docs/architecture.md).

  scripts/check_layers.py [--objects BUILD_DIR] [--graph]

1. Includes point down the layers only:
       core < formats < ref < seam < kernels_generated < model < bench, tests
   A file in runtime/<layer>/ (its isa/ subfolder included) may include the
   headers of its own layer and of the layers below it, never above.
2. The include graph over every project file has no cycle.
3. With --objects: the symbol graph of the runtime library has no cycle
   between source files (file A calls B and B calls A, directly or round a
   longer loop), read with `nm` from the object files CMake built in
   BUILD_DIR.  This catches what includes cannot: two .c files that use each
   other's functions through a shared header.

Exit 0 when all hold; 1 with one line per violation otherwise.  --graph
prints the layer-level include graph (who includes whom, with counts).
"""
import argparse
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ["core", "formats", "ref", "seam", "kernels_generated", "model", "bench", "tests"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    """Layer of a project path (relative to ROOT), or None when outside the layers."""
    parts = rel.split(os.sep)
    if parts[0] == "runtime" and len(parts) > 2:
        return parts[1]
    if parts[0] in ("bench", "kernels_generated", "tests"):
        return parts[0]
    if parts[0] == "templates":  # rendered into kernels_generated/
        return "kernels_generated"
    return None


def sources():
    out = []
    for top in ("runtime", "bench", "tests", "templates", "kernels_generated"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h", ".j2")):
                    out.append(os.path.relpath(os.path.join(dirpath, f), ROOT))
    return sorted(out)


def resolve(src, inc):
    """Project path an include names: runtime/<inc>, beside the including file, or
    bench/<inc> (the CLI's headers, on the include path of the tests that link it)."""
    for cand in (os.path.join("runtime", inc), os.path.join(os.path.dirname(src), inc), os.path.join("bench", inc)):
        if os.path.isfile(os.path.join(ROOT, cand)):
            return os.path.normpath(cand)
    return None


def find_cycle(graph):
    """One cycle of a directed graph as a list of nodes, or None (iterative DFS)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = defaultdict(int)
    for start in sorted(graph):
        if color[start] != WHITE:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        color[start] = GREY
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = BLACK
                stack.pop()
                path.pop()
            elif color[nxt] == GREY:
                return path[path.index(nxt):] + [nxt]
            elif color[nxt] == WHITE:
                color[nxt] = GREY
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
                path.append(nxt)
    return None


def check_includes(problems, show_graph):
    graph = defaultdict(set)
    layer_edges = defaultdict(int)
    for src in sources():
        text = open(os.path.join(ROOT, src), encoding="utf-8", errors="replace").read()
        for inc in INCLUDE.findall(text):
            dst = resolve(src, inc)
            if dst is None:
                if src.endswith(".j2") or src.startswith("kernels_generated"):
                    continue  # generated includes are resolved against runtime/ at build time
                problems.append(f"{src}: includes \"{inc}\", which is not a project header")
                continue
            graph[src].add(dst)
            ls, ld = layer_of(src), layer_of(dst)
            if ls is None or ld is None:
                continue
            layer_edges[(ls, ld)] += 1
            if ld not in RANK or ls not in RANK:
                problems.append(f"{src}: layer '{ls if ls not in RANK else ld}' is not in the layer list {LAYERS}")
            elif RANK[ld] > RANK[ls]:
                problems.append(f"{src} ({ls}) includes {dst} ({ld}): includes must point down the layers")
    cyc = find_cycle(graph)
    if cyc:
        problems.append("include cycle: " + " -> ".join(cyc))
    if show_graph:
        for (a, b), n in sorted(layer_edges.items(), key=lambda e: (RANK.get(e[0][0], 99), RANK.get(e[0][1], 99))):
            print(f"{a:18s} -> {b:18s} {n:4d} includes")
    return len(graph)


def check_symbols(build, problems):
    objdir = os.path.join(build, "CMakeFiles", "tritune_rt.dir")
    objs = []
    for dirpath, _, files in os.walk(objdir):
        objs += [os.path.join(dirpath, f) for f in files if f.endswith(".o")]
    if not objs:
        problems.append(f"--objects: no object files under {objdir} (build the project first)")
        return 0
    defined, undefined = {}, defaultdict(set)
    for o in objs:
        rel = os.path.relpath(o, objdir)[:-2]  # runtime/core/pool.c
        if rel.startswith("runtime") and not os.path.isfile(os.path.join(ROOT, rel)):
            continue  # stale object of a source that was removed (incremental build dir)
        res = subprocess.run(["nm", "-P", o], capture_output=True, text=True)
        if res.returncode != 0:
            problems.append(f"nm failed on {o}: {res.stderr.strip()}")
            continue
        for line in res.stdout.splitlines():
            f = line.split()
            if len(f) < 2:
                continue
            name, kind = f[0], f[1]
            if kind == "U":
                undefined[rel].add(name)
            elif kind in "TDBRVW":  # global definitions (lower-case kinds are file-local)
                defined.setdefault(name, rel)
    graph = defaultdict(set)
    for rel, names in undefined.items():
        for n in names:
            d = defined.get(n)
            if d and d != rel:
                graph[rel].add(d)
    cyc = find_cycle(graph)
    if cyc:
        problems.append("symbol cycle between source files: " + " -> ".join(cyc))
    return len(objs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", metavar="BUILD_DIR", help="also check the symbol graph of BUILD_DIR's runtime objects")
    ap.add_argument("--graph", action="store_true", help="print the layer-level include graph")
    args = ap.parse_args()
    problems = []
    nfiles = check_includes(problems, args.graph)
    nobjs = check_symbols(args.objects, problems) if args.objects else 0
    for p in problems:
        print(p)
    print(f"check_layers: {nfiles} files, {nobjs} objects, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
