"""Reference for peft/merge's sparsifying merges, written in numpy from the
definitions (TIES: Yadav et al.; Model Breadcrumbs: Davari and Belilovsky).

Reads a JSON list of cases from stdin, writes the list of merged task vectors
(flat, before reshaping) to stdout. Each case: method ("arith", "ties",
"breadcrumbs"), deltas (list of flat lists), weights, lambda, and per method
density, convention ("mergekit" or "peft"), by_count, beta, gamma.
"""
import json
import sys

import numpy as np


def trim(tau, density):
    """Keep the round(density*n) (at least 1) largest magnitudes of each row."""
    n = tau.shape[1]
    k = max(1, int(np.floor(density * n + 0.5)))
    out = np.zeros_like(tau)
    for i, row in enumerate(tau):
        keep = np.argsort(-np.abs(row), kind="stable")[:k]
        out[i, keep] = row[keep]
    return out


def ties(tau, w, lam, density, convention, by_count):
    t = trim(tau, density)
    w = w[:, None]
    # mergekit votes with the weighted entries, PEFT with the unweighted ones.
    votes = w * t if convention == "mergekit" else t
    tally = np.sign(votes).sum(0) if by_count else votes.sum(0)
    elected = np.sign(tally)  # 0 on a tie: such entries merge to 0
    agree = (np.sign(votes) == elected) & (elected != 0)
    total = (w * t * agree).sum(0)
    if convention == "mergekit":
        divisor = (w * agree).sum(0)
    else:
        divisor = agree.sum(0).astype(float)
    merged = np.where(divisor != 0, total / np.where(divisor == 0, 1, divisor), 0)
    return lam * merged


def breadcrumbs(tau, w, lam, beta, gamma):
    n = tau.shape[1]
    top, bottom = int(np.floor(beta * n + 1e-9)), int(np.floor(gamma * n + 1e-9))
    masked = tau.copy()
    for i, row in enumerate(tau):
        order = np.argsort(-np.abs(row), kind="stable")
        masked[i, order[:top]] = 0
        masked[i, order[n - bottom:]] = 0
    return lam * (w[:, None] * masked).sum(0)


def main():
    out = []
    for c in json.load(sys.stdin):
        tau = np.array(c["deltas"], dtype=np.float64)
        w = np.array(c["weights"], dtype=np.float64)
        lam = c["lambda"]
        if c["method"] == "arith":
            r = lam * (w[:, None] * tau).sum(0)
        elif c["method"] == "ties":
            r = ties(tau, w, lam, c["density"], c["convention"], c["by_count"])
        else:
            r = breadcrumbs(tau, w, lam, c["beta"], c["gamma"])
        out.append(r.tolist())
    json.dump(out, sys.stdout)


main()
