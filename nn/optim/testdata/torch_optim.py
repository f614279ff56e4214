#!/usr/bin/python3
"""Reference trajectories from PyTorch's optimisers for graft's parity test
(nn/optim/parity_test.go).

Usage: /usr/bin/python3 torch_optim.py OUTDIR

Every case trains two parameters, p0 (3, 4) and p1 (5,), in two parameter
groups for STEPS steps with random gradients (p1 gets none at step 2, so it is
skipped there), and writes OUTDIR/<case>.safetensors (all tensors float32):

  init.p0, init.p1                the parameters before the first step
  grad.<t>.p0, grad.<t>.p1        the gradients given at step t (before clipping)
  lr.<t>.g0, lr.<t>.g1            each group's learning rate used at step t
  param.<t>.p0, param.<t>.p1      the parameters after step t
  state.p<i>.<slot>               the optimiser's state after the last step
                                  (exp_avg, exp_avg_sq, max_exp_avg_sq,
                                  momentum_buffer, step)

The safetensors format is written by hand, because Debian ships no Python
package for it.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../internal/pyref"))
from safetensors_write import save  # noqa: E402

SEED = 20240612
STEPS = 6


def warmup_cosine(warmup, total, floor):
    """graft's optim.WarmupCosine as a LambdaLR multiplier."""

    def factor(step):
        if step < warmup:
            return step / warmup
        progress = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


# name: (optimiser class, its keyword arguments, per-group settings,
#        schedule multiplier or None, max gradient norm or None)
CASES = {
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True),
                     [dict(lr=0.1, weight_decay=0.01), dict(lr=0.05, weight_decay=0.0)], None, None),
    "sgd_dampening": (torch.optim.SGD, dict(lr=0.1, momentum=0.8, dampening=0.3),
                      [dict(lr=0.1, weight_decay=0.0), dict(lr=0.02, weight_decay=0.1)], None, None),
    "adam_l2_clip": (torch.optim.Adam, dict(),
                     [dict(lr=0.01, weight_decay=0.1), dict(lr=0.003, weight_decay=0.0)], None, 0.5),
    "adam_amsgrad": (torch.optim.Adam, dict(betas=(0.8, 0.99), eps=1e-6, amsgrad=True),
                     [dict(lr=0.02, weight_decay=0.0), dict(lr=0.01, weight_decay=0.05)], None, None),
    "adamw_warmup_cosine": (torch.optim.AdamW, dict(),
                            [dict(lr=0.01, weight_decay=0.01), dict(lr=0.02, weight_decay=0.1)],
                            warmup_cosine(2, STEPS, 0.1), None),
    # PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
    "adamw_defaults": (torch.optim.AdamW, dict(), [dict(), dict()], None, None),
}


def run_case(outdir, index, name):
    cls, kwargs, group_settings, schedule, clip = CASES[name]
    gen = torch.Generator().manual_seed(SEED + index)
    init = [torch.randn(3, 4, generator=gen), torch.randn(5, generator=gen)]
    params = [p.clone().requires_grad_(True) for p in init]
    groups = [dict(params=[p], **s) for p, s in zip(params, group_settings)]
    opt = cls(groups, **kwargs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule) if schedule else None
    out = {"init.p0": init[0], "init.p1": init[1]}
    for t in range(STEPS):
        grads = [torch.randn(3, 4, generator=gen), 0.5 * torch.randn(5, generator=gen)]
        for i, (p, g) in enumerate(zip(params, grads)):
            if i == 1 and t == 2:
                p.grad = None
                continue
            p.grad = g.clone()
            out["grad.%d.p%d" % (t, i)] = g
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        for i, group in enumerate(opt.param_groups):
            out["lr.%d.g%d" % (t, i)] = torch.tensor(float(group["lr"]))
        opt.step()
        if sched:
            sched.step()
        for i, p in enumerate(params):
            out["param.%d.p%d" % (t, i)] = p.detach().clone()
    for i, p in enumerate(params):
        for slot, value in opt.state[p].items():
            if value is None:
                continue
            out["state.p%d.%s" % (i, slot)] = torch.as_tensor(value, dtype=torch.float32).detach().clone()
    save(os.path.join(outdir, name + ".safetensors"), out,
         {"case": name, "steps": STEPS, "torch": torch.__version__, "seed": SEED + index})


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: torch_optim.py OUTDIR")
    torch.set_num_threads(1)
    for index, name in enumerate(sorted(CASES)):
        run_case(sys.argv[1], index, name)


if __name__ == "__main__":
    main()
