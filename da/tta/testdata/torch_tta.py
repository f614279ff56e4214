"""Reference values for da/tta's tests from PyTorch.

Reads a JSON object from stdin: the parameters of a model
Linear(d, h) -> BatchNorm1d(h) -> ReLU -> Linear(h, k) ("w1", "b1", "bnw",
"bnb", "rm", "rv", "w2", "b2"), a batch "x", a list of batches "batches", and
Tent's SGD settings "lr" and "momentum". Writes a JSON object:
  bn_logits       logits of x with batch norm in training mode (test-batch statistics)
  ada_mean/var    running statistics after reset_running_stats, momentum None
                  (cumulative average) and a training-mode pass over each batch
  tent_*          one Tent step on x (entropy of the softmax, mean over the batch,
                  SGD on the batch-norm weight and bias only, batch statistics):
                  logits before the step, the gradients and the updated parameters
"""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def model(p):
    w1 = torch.tensor(p["w1"])
    h, d = w1.shape
    k = len(p["b2"])
    m = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.BatchNorm1d(h), torch.nn.ReLU(), torch.nn.Linear(h, k))
    with torch.no_grad():
        m[0].weight.copy_(w1)
        m[0].bias.copy_(torch.tensor(p["b1"]))
        m[1].weight.copy_(torch.tensor(p["bnw"]))
        m[1].bias.copy_(torch.tensor(p["bnb"]))
        m[1].running_mean.copy_(torch.tensor(p["rm"]))
        m[1].running_var.copy_(torch.tensor(p["rv"]))
        m[3].weight.copy_(torch.tensor(p["w2"]))
        m[3].bias.copy_(torch.tensor(p["b2"]))
    return m


def main():
    p = json.load(sys.stdin)
    x = torch.tensor(p["x"])
    out = {}

    m = model(p)
    m.train()
    with torch.no_grad():
        out["bn_logits"] = m(x).tolist()

    m = model(p)
    m[1].reset_running_stats()
    m[1].momentum = None
    m.train()
    with torch.no_grad():
        for b in p["batches"]:
            m(torch.tensor(b))
    out["ada_mean"] = m[1].running_mean.tolist()
    out["ada_var"] = m[1].running_var.tolist()

    # Tent: batch statistics only, gradients only for the batch-norm affine parameters.
    m = model(p)
    m.train()
    m.requires_grad_(False)
    bn = m[1]
    bn.track_running_stats = False
    bn.running_mean = None
    bn.running_var = None
    bn.weight.requires_grad_(True)
    bn.bias.requires_grad_(True)
    opt = torch.optim.SGD([bn.weight, bn.bias], lr=p["lr"], momentum=p["momentum"])
    logits = m(x)
    loss = -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    out["tent_logits"] = logits.tolist()
    out["tent_loss"] = loss.item()
    out["tent_gw"] = bn.weight.grad.tolist()
    out["tent_gb"] = bn.bias.grad.tolist()
    out["tent_w"] = bn.weight.tolist()
    out["tent_b"] = bn.bias.tolist()
    json.dump(out, sys.stdout)


main()
