"""Runs POT (Debian's python3-pot 0.8.2) for graft's da/ot reference tests.

Reads a JSON list of calls [{"fn": NAME, "args": {...}}, ...] on stdin and
writes the JSON list of their results FUNCS[NAME](**args) on stdout (one
process for many calls: importing POT takes seconds). The functions live in the
pot_*.py modules beside this file, each exporting a FUNCS dict; arrays
travel as nested lists (float64, exact through JSON's shortest round-trip
decimals).
"""
import glob
import importlib.util
import json
import os
import sys

import numpy as np


def load_funcs():
    funcs = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "pot_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for k, f in mod.FUNCS.items():
            if k in funcs:
                raise SystemExit("potref: %s defined twice (%s)" % (k, path))
            funcs[k] = f
    return funcs


def tolist(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {k: tolist(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [tolist(x) for x in v]
    return v


def main():
    calls = json.load(sys.stdin)
    funcs = load_funcs()
    out = []
    for c in calls:
        if c["fn"] not in funcs:
            raise SystemExit("potref: no function %r (have %s)" % (c["fn"], ", ".join(sorted(funcs))))
        out.append(tolist(funcs[c["fn"]](**c.get("args", {}))))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
