#!/usr/bin/env python3
"""No two files depend on each other in a circle: from the objects of a
build (nm), which file calls or reads which other's symbols; fails on any
cycle between files, and names the files in it.

usage: cycles.py BUILD_DIR"""
import os
import subprocess
import sys

build = sys.argv[1]
objs = []
for lib in ("callbar_core", "callbar_proto", "callbar_data", "callbar_store", "callbar_load",
            "callbar_net", "callbar_daemon", "callbar"):
    d = os.path.join(build, "CMakeFiles", lib + ".dir")
    for dp, dn, fn in os.walk(d):
        objs += [os.path.join(dp, f) for f in fn if f.endswith(".c.o")]
defined, used = {}, {}
for o in objs:
    name = os.path.relpath(o, build).split(".dir/", 1)[1][:-2]  # src/x/y.c
    out = subprocess.run(["nm", o], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRC":
            defined[parts[2]] = name
        elif len(parts) == 2 and parts[0] == "U":
            used.setdefault(name, set()).add(parts[1])
graph = {n: {defined[s] for s in u if s in defined and defined[s] != n} for n, u in used.items()}
# Tarjan's strongly connected components
index, low, stack, on, sccs = {}, {}, [], set(), []
def strong(v, i=[0]):
    index[v] = low[v] = i[0]; i[0] += 1
    stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v:
                break
        if len(c) > 1:
            sccs.append(sorted(c))
sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        strong(v)
for c in sccs:
    print("files in a circle: " + ", ".join(c), file=sys.stderr)
    for a in c:
        for b in sorted(graph[a] & set(c)):
            syms = sorted(s for s in used[a] if defined.get(s) == b)
            print("  %s uses %s: %s" % (a, b, " ".join(syms[:6])), file=sys.stderr)
if sccs:
    sys.exit(1)
print("cycles: none among %d files" % len(graph))
