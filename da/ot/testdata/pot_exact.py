"""POT references for the exact side of da/ot: EMD, 1-D OT, partial OT and
the EMD barycentric mapping (see potref.py)."""
import numpy as np
import ot


def f64(*xs):
    """Arrays of float64: JSON writes 1.0 as 1, which numpy would read as an
    integer (and POT then casts its plan to integers)."""
    return [np.array(x, dtype=np.float64) for x in xs]


def emd(a, b, M):
    G, log = ot.emd(*f64(a, b, M), log=True)
    return {"T": G, "cost": log["cost"], "u": log["u"], "v": log["v"]}


def emd2(a, b, M):
    return ot.emd2(*f64(a, b, M))


def emd_1d(xs, xt, a, b, p):
    xs, xt, a, b = f64(xs, xt, a, b)
    G = ot.emd_1d(xs, xt, a, b, metric="minkowski", p=p)
    return {"T": G,
            "emd2_1d": ot.emd2_1d(xs, xt, a, b, metric="minkowski", p=p),
            "wasserstein_1d": ot.wasserstein_1d(xs, xt, a, b, p=p)}


def partial(a, b, M, m):
    a, b, M = f64(a, b, M)
    G = ot.partial.partial_wasserstein(a, b, M, m=m)
    return {"T": G, "cost": ot.partial.partial_wasserstein2(a, b, M, m=m)}


def emd_transport(xs, xt, xnew, xtnew, norm=None, ys=None, yt=None):
    xs, xt, xnew, xtnew = f64(xs, xt, xnew, xtnew)
    if ys is not None:
        ys, yt = np.array(ys), np.array(yt)
    m = ot.da.EMDTransport(norm=norm).fit(Xs=xs, ys=ys, Xt=xt, yt=yt)
    return {"T": m.coupling_,
            "fitted": m.transform(Xs=xs),
            "new": m.transform(Xs=xnew),
            "inverse": m.inverse_transform(Xt=xt),
            "inverse_new": m.inverse_transform(Xt=xtnew)}


FUNCS = {"emd": emd, "emd2": emd2, "emd_1d": emd_1d, "partial": partial,
         "emd_transport": emd_transport}
