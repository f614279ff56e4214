"""POT side of graft's bench/compare optimal transport benchmarks (run by it).

Usage: pot_bench.py DIR NAME STEPS REPEATS WARMUP

Reads the problem graft wrote to DIR — DIR/problem.json {"n", "m", "params"}
and the little-endian float64 files DIR/a.f8 (n), DIR/b.f8 (m), DIR/M.f8
(n×m, row-major) — times WARMUP untimed and REPEATS timed runs of STEPS calls
of BENCHES[NAME](a, b, M, **params), and prints the result line
{"repeats_ms", "loss", "pot"} where loss is the transport cost ⟨T, M⟩ of the
last call and pot POT's version.

To add a benchmark, add a function (a, b, M, **params) -> plan to BENCHES
and a potBench to bench/compare/pot.go.
"""
import json
import sys
import time

import numpy as np
import ot


def emd(a, b, M):
    return ot.emd(a, b, M)


def sinkhorn(a, b, M, reg):
    return ot.sinkhorn(a, b, M / M.max(), reg)


BENCHES = {"emd": emd, "sinkhorn": sinkhorn}


def main():
    d, name, steps, repeats, warmup = sys.argv[1:]
    steps, repeats, warmup = int(steps), int(repeats), int(warmup)
    with open(d + "/problem.json") as f:
        prob = json.load(f)
    n, m = prob["n"], prob["m"]
    a = np.fromfile(d + "/a.f8", dtype="<f8")
    b = np.fromfile(d + "/b.f8", dtype="<f8")
    M = np.fromfile(d + "/M.f8", dtype="<f8").reshape(n, m)
    fn, params = BENCHES[name], prob.get("params") or {}
    for _ in range(warmup):
        fn(a, b, M, **params)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            T = fn(a, b, M, **params)
        times.append((time.perf_counter() - start) * 1000 / steps)
    print(json.dumps({"repeats_ms": times, "loss": float(np.sum(T * M)), "pot": ot.__version__}))


if __name__ == "__main__":
    main()
