"""POT references for the basics of da/ot (see potref.py)."""
import numpy as np
import ot


def dist(xs, xt, metric):
    return ot.dist(np.array(xs), np.array(xt), metric=metric)


FUNCS = {"dist": dist}
