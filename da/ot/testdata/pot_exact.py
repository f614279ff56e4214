"""POT references for the exact side of da/ot: EMD, 1-D OT, partial OT and
the EMD barycentric mapping (see potref.py)."""
import numpy as np
import ot


def emd(a, b, M):
    G, log = ot.emd(np.array(a), np.array(b), np.array(M), log=True)
    return {"T": G, "cost": log["cost"], "u": log["u"], "v": log["v"]}


def emd2(a, b, M):
    return ot.emd2(np.array(a), np.array(b), np.array(M))


FUNCS = {"emd": emd, "emd2": emd2}
