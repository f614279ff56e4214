"""Reference values for da's adversarial losses, computed with PyTorch.

Reads a JSON list of cases from stdin, each: source/target features and logits, the
discriminator's parameters (Linear, tanh, Linear), the reversal factor, the
weight and the method ("dann", "cdan", "cdan+e"). Writes, per case, the loss
and the gradients of the features and of every parameter as a JSON list. The formulas are
the papers': DANN's domain BCE through a gradient reversal layer, and CDAN's
multilinear conditioning f⊗g with g = softmax(logits) held fixed, its entropy
weights 1 + exp(−H(g)) normalised within each domain (as the authors' code).
"""
import json
import sys

import torch


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


def case(c):
    t = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
    fs, ft = t(c["fs"]), t(c["ft"])
    params = [t(p) for p in c["params"]]
    w1, b1, w2, b2 = params
    lam, weight, method = c["lambda"], c["weight"], c["method"]

    def disc(h):
        return torch.tanh(h @ w1.T + b1) @ w2.T + b2

    def side(f, logits):
        f = GradReverse.apply(f, lam)
        if method == "dann":
            return disc(f).squeeze(1), None
        g = torch.softmax(torch.tensor(logits, dtype=torch.float64), dim=1)
        h = torch.bmm(f.unsqueeze(2), g.unsqueeze(1)).reshape(f.shape[0], -1)
        w = None
        if method == "cdan+e":
            ent = -(g * torch.log(g)).sum(1)
            w = 1 + torch.exp(-ent)
            w = w / w.sum()
        return disc(h).squeeze(1), w

    ls, ws = side(fs, c.get("ls"))
    lt, wt = side(ft, c.get("lt"))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    if ws is None:
        loss = (bce(ls, torch.ones_like(ls)) + bce(lt, torch.zeros_like(lt))) / 2
    else:
        per_s = bce(ls, torch.ones_like(ls), reduction="none")
        per_t = bce(lt, torch.zeros_like(lt), reduction="none")
        loss = ((ws * per_s).sum() + (wt * per_t).sum()) / (ws.sum() + wt.sum())
    loss = weight * loss
    loss.backward()
    out = {"loss": loss.item(), "fs": fs.grad.tolist(), "ft": ft.grad.tolist(),
           "params": [p.grad.flatten().tolist() for p in params]}
    return out


json.dump([case(c) for c in json.load(sys.stdin)], sys.stdout)
