"""Reads a VeRA or HRA adapter graft saved, checks its keys and shapes against
PEFT's layout, and computes the adapted layers' forward passes in torch with
PEFT's formulas.

argv: one or more triples of adapter dir, inputs file (safetensors:
"<module>.x", "<module>.weight" as (out, in) and "<module>.bias"), output
file for y per module.
VeRA: y = x Wᵀ + bias + λ_b ⊙ ((λ_d ⊙ (x A[:, :in]ᵀ)) B[:out]ᵀ).
HRA:  y = x (W H)ᵀ + bias, H = Π_i (I − 2 û_i û_iᵀ), û_i = u_i/‖u_i‖.
"""

import json
import os
import sys

import torch

from reftest import load, save


def check(adir, inputs, out):
    cfg = json.load(open(os.path.join(adir, "adapter_config.json")))
    tensors = load(os.path.join(adir, "adapter_model.safetensors"))
    ins = load(inputs)
    modules = sorted(k[: -len(".x")] for k in ins if k.endswith(".x"))
    results = {}
    prefix = "base_model.model."
    if cfg["peft_type"] == "VERA":
        for k in ("r", "projection_prng_key", "save_projection", "vera_dropout", "d_initial", "target_modules"):
            assert k in cfg, k
        a, b = tensors["base_model.vera_A"], tensors["base_model.vera_B"]
        expected = {"base_model.vera_A", "base_model.vera_B"}
        for name in modules:
            x, w, bias = ins[name + ".x"], ins[name + ".weight"], ins[name + ".bias"]
            lb, ld = tensors[prefix + name + ".vera_lambda_b"], tensors[prefix + name + ".vera_lambda_d"]
            expected |= {prefix + name + ".vera_lambda_b", prefix + name + ".vera_lambda_d"}
            out_f, in_f = w.shape
            assert lb.shape == (out_f,) and ld.shape == (cfg["r"],), (name, lb.shape, ld.shape)
            sa, sb = a[:, :in_f], b[:out_f, :]
            results[name] = torch.nn.functional.linear(x, w, bias) + lb * torch.nn.functional.linear(
                ld * torch.nn.functional.linear(x, sa), sb)
    elif cfg["peft_type"] == "HRA":
        assert cfg["apply_GS"] is False
        expected = set()
        for name in modules:
            x, w, bias = ins[name + ".x"], ins[name + ".weight"], ins[name + ".bias"]
            u = tensors[prefix + name + ".hra_u"]
            expected.add(prefix + name + ".hra_u")
            assert u.shape == (w.shape[1], cfg["r"]), (name, u.shape)
            u = u / u.norm(dim=0)
            h = torch.eye(u.shape[0])
            for i in range(cfg["r"]):
                ui = u[:, i].view(-1, 1)
                h = h @ (torch.eye(u.shape[0]) - 2 * ui @ ui.t())
            results[name] = torch.nn.functional.linear(x, w @ h, bias)
    else:
        raise SystemExit("unexpected peft_type " + cfg["peft_type"])
    assert set(tensors) == expected, (sorted(tensors), sorted(expected))
    save(out, results)
    print("ok", cfg["peft_type"], len(modules))


args = sys.argv[1:]
assert args and len(args) % 3 == 0, args
for i in range(0, len(args), 3):
    check(*args[i:i + 3])
