"""PEFT's DoRA forward (DoraLinearLayer.forward and get_weight_norm, the norm
detached) in torch, on a DoRA adapter graft saved, with the gradients of
sum(c * y) with respect to A, B and the magnitude vector.

argv: adapter dir, inputs file (safetensors: x, c and each base weight, in
(out, in) layout, and bias under its module name), output file. Writes <module>.y, <module>.grad_A,
<module>.grad_B, <module>.grad_m; prints "ok" and the module count.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

from reftest import load, save

adir, inputs, out = sys.argv[1:4]
cfg = json.load(open(os.path.join(adir, "adapter_config.json")))
assert cfg["peft_type"] == "LORA" and cfg["use_dora"] is True, cfg
tensors = load(os.path.join(adir, "adapter_model.safetensors"))
ins = load(inputs)
x, c = ins["x"], ins["c"]
r = cfg["r"]
scaling = cfg["lora_alpha"] / (r ** 0.5 if cfg["use_rslora"] else r)
results = {}
prefix = "base_model.model."
modules = sorted({k[len(prefix):-len(".lora_magnitude_vector")] for k in tensors if k.endswith(".lora_magnitude_vector")})
assert modules, list(tensors)
for name in modules:
    a = tensors[prefix + name + ".lora_A.weight"].clone().requires_grad_(True)
    b = tensors[prefix + name + ".lora_B.weight"].clone().requires_grad_(True)
    m = tensors[prefix + name + ".lora_magnitude_vector"].clone().requires_grad_(True)
    w = ins[name + ".weight"]  # (out, in), Conv1D's transposed by the test
    bias = ins[name + ".bias"]
    assert m.shape == (w.shape[0],), (name, m.shape, w.shape)
    # DoraLinearLayer.forward, base_result = base_layer(x) - bias:
    x_eye = torch.eye(a.shape[1], dtype=x.dtype)
    lora_weight = F.linear(F.linear(x_eye, a), b).T
    weight_norm = torch.linalg.norm(w + scaling * lora_weight.detach(), dim=1).detach()
    mag_norm_scale = (m / weight_norm).view(1, -1)
    base_result = F.linear(x, w, bias)
    lora_result = F.linear(F.linear(x, a), b)
    result_dora = (mag_norm_scale - 1) * (base_result - bias) + mag_norm_scale * lora_result * scaling
    y = base_result + result_dora
    (y * c).sum().backward()
    results[name + ".y"] = y.detach()
    results[name + ".grad_A"] = a.grad
    results[name + ".grad_B"] = b.grad
    results[name + ".grad_m"] = m.grad
save(out, results)
print("ok", len(modules))
