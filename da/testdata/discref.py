"""Reference values for graft's da discrepancy losses and metrics.

Reads a JSON list of calls [{"fn": NAME, "args": {...}}, ...] on stdin and
writes the JSON list of FUNCS[NAME](**args) on stdout: one process for many
calls (importing torch takes seconds). Written from the papers' formulas in
float64 PyTorch 1.13 / numpy, independently of graft's code:
  MMD: Gretton et al. 2012 (V-, U- and linear statistics), kernel a sum of
       Gaussians exp(-d^2 / (2 s2)); DAN's base s2 = mean of all pooled squared
       distances (diagonal included), or the median of the distinct pairs.
  JMMD: Long et al. 2017, product of the layers' kernels.
  CORAL: Sun & Saenko 2016.
  CKA: Kornblith et al. 2019 (HSIC of centred Grams); the debiased form uses
       Song et al. 2012's unbiased HSIC formula.
"""
import json
import sys

import numpy as np

torch = None


def need_torch():
    """Imports torch on first use (seconds), so numpy-only calls stay fast."""
    global torch
    if torch is None:
        import torch as t
        t.set_default_dtype(t.float64)
        torch = t


def bandwidths(d2, multipliers, sigmas, median, square):
    if sigmas:
        return [s * s for s in sigmas]
    if median:
        if square:
            n = d2.shape[0]
            vals = d2[~torch.eye(n, dtype=torch.bool)]
        else:
            vals = d2.flatten()
        base = float(np.median(vals.numpy()))
    else:
        base = float(d2.mean())
    if multipliers is None:
        multipliers = [0.25, 0.5, 1, 2, 4]
    return [base * m for m in multipliers]


def ksum(d2, s2s):
    return sum(torch.exp(-d2 / (2 * s2)) for s2 in s2s)


def kernel_pooled(x, y, k):
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z) ** 2
    return ksum(d2, bandwidths(d2, k.get("multipliers"), k.get("sigmas"), k.get("median", False), True))


def jmmd(xs, xt, estimator, kernels):
    need_torch()
    xs = [torch.tensor(a) for a in xs]
    xt = [torch.tensor(a) for a in xt]
    n, m = xs[0].shape[0], xt[0].shape[0]
    if estimator == "linear":
        h = min(n, m) // 2
        terms = [1.0, 1.0, 1.0, 1.0]
        for x, y, k in zip(xs, xt, kernels):
            a, a2 = x[0:2 * h:2], x[1:2 * h:2]
            b, b2 = y[0:2 * h:2], y[1:2 * h:2]
            ds = [((a - a2) ** 2).sum(1), ((b - b2) ** 2).sum(1), ((a - b2) ** 2).sum(1), ((a2 - b) ** 2).sum(1)]
            s2s = bandwidths(torch.cat(ds), k.get("multipliers"), k.get("sigmas"), k.get("median", False), False)
            terms = [t * ksum(d, s2s) for t, d in zip(terms, ds)]
        return float((terms[0] + terms[1] - terms[2] - terms[3]).mean())
    K = 1.0
    for x, y, k in zip(xs, xt, kernels):
        K = K * kernel_pooled(x, y, k)
    kss, ktt, kst = K[:n, :n], K[n:, n:], K[:n, n:]
    if estimator == "unbiased":
        return float((kss.sum() - kss.trace()) / (n * (n - 1)) + (ktt.sum() - ktt.trace()) / (m * (m - 1)) - 2 * kst.mean())
    return float(kss.mean() + ktt.mean() - 2 * kst.mean())


def mmd(xs, xt, estimator, kernel):
    return jmmd([xs], [xt], estimator, [kernel])


def coral(xs, xt):
    need_torch()
    xs, xt = torch.tensor(xs), torch.tensor(xt)
    d = xs.shape[1]
    cs, ct = torch.cov(xs.T), torch.cov(xt.T)
    return float(((cs - ct) ** 2).sum() / (4 * d * d))


def hsic_biased(K, L):
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    return np.trace(K @ H @ L @ H)


def hsic_unbiased(K, L):
    n = K.shape[0]
    K, L = K.copy(), L.copy()
    np.fill_diagonal(K, 0)
    np.fill_diagonal(L, 0)
    one = np.ones(n)
    t1 = np.trace(K @ L)
    t2 = (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
    t3 = 2 / (n - 2) * (one @ K @ L @ one)
    return (t1 + t2 - t3) / (n * (n - 3))


def gram(x, kernel, threshold):
    x = np.asarray(x, dtype=np.float64)
    if kernel == "linear":
        return x @ x.T
    sq = (x ** 2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * x @ x.T
    med = np.median(d2)
    return np.exp(-d2 / (2 * threshold ** 2 * med))


def cka(x, y, kernel, threshold, debiased):
    K, L = gram(x, kernel, threshold), gram(y, kernel, threshold)
    h = hsic_unbiased if debiased else hsic_biased
    return float(h(K, L) / np.sqrt(h(K, K) * h(L, L)))


FUNCS = {"mmd": mmd, "jmmd": jmmd, "coral": coral, "cka": cka}


def main():
    calls = json.load(sys.stdin)
    json.dump([FUNCS[c["fn"]](**c["args"]) for c in calls], sys.stdout)


if __name__ == "__main__":
    main()
