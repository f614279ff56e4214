"""POT references for the entropic and structured solvers of da/ot (see potref.py)."""
import warnings

import numpy as np
import ot


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9):
    a, b, M = np.array(a, dtype=float), np.array(b, dtype=float), np.array(M, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        T, log = ot.sinkhorn(a, b, M, reg, method=method, numItermax=numItermax, stopThr=stopThr, log=True)
        value = ot.sinkhorn2(a, b, M, reg, method=method, numItermax=numItermax, stopThr=stopThr)
    if method == "sinkhorn_log":
        logu, logv = log["log_u"], log["log_v"]
    else:
        logu, logv = np.log(log["u"]), np.log(log["v"])
    # potentials in graft's convention T = a b exp((f + g - M)/reg)
    return {"T": T, "value": float(value), "f": reg * (logu - np.log(a)), "g": reg * (logv - np.log(b))}


def sinkhorn_unbalanced(a, b, M, reg, reg_m, method="sinkhorn", numItermax=1000, stopThr=1e-6):
    a, b, M = np.array(a, dtype=float), np.array(b, dtype=float), np.array(M, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        T = ot.sinkhorn_unbalanced(a, b, M, reg, reg_m, method=method, numItermax=numItermax, stopThr=stopThr)
        value = ot.sinkhorn_unbalanced2(a, b, M, reg, reg_m, method=method, numItermax=numItermax, stopThr=stopThr)
    return {"T": T, "value": float(np.squeeze(value))}


def sinkhorn_divergence(xs, xt, reg, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(ot.bregman.empirical_sinkhorn_divergence(np.array(xs, dtype=float), np.array(xt, dtype=float), reg, np.array(a, dtype=float), np.array(b, dtype=float)))


def gromov(C1, C2, p, q, loss, G0=None):
    C1, C2, p, q = np.array(C1, dtype=float), np.array(C2, dtype=float), np.array(p, dtype=float), np.array(q, dtype=float)
    G0 = None if G0 is None else np.array(G0, dtype=float)
    T, log = ot.gromov.gromov_wasserstein(C1, C2, p, q, loss, log=True, G0=G0)
    value = ot.gromov.gromov_wasserstein2(C1, C2, p, q, loss, G0=G0)
    return {"T": T, "value": float(value)}


def entropic_gromov(C1, C2, p, q, loss, epsilon):
    C1, C2, p, q = np.array(C1, dtype=float), np.array(C2, dtype=float), np.array(p, dtype=float), np.array(q, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        T, log = ot.gromov.entropic_gromov_wasserstein(C1, C2, p, q, loss, epsilon, log=True)
    return {"T": T, "value": float(log["gw_dist"])}


FUNCS = {
    "sinkhorn": sinkhorn,
    "sinkhorn_unbalanced": sinkhorn_unbalanced,
    "sinkhorn_divergence": sinkhorn_divergence,
    "gromov": gromov,
    "entropic_gromov": entropic_gromov,
}
