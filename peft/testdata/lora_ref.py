"""Reads a LoRA adapter graft saved, checks that its keys and shapes follow
PEFT's layout, and computes a LoRA forward pass in torch from its tensors.

argv: adapter dir, inputs file (safetensors: x and each base weight/bias under
its module name), output file (safetensors) for y per module.
Prints "ok" and writes y for each adapted module.
"""

import json
import os
import sys

import torch

from reftest import load, save

adir, inputs, out = sys.argv[1:4]
cfg = json.load(open(os.path.join(adir, "adapter_config.json")))
assert cfg["peft_type"] == "LORA", cfg
for k in ("r", "lora_alpha", "target_modules", "lora_dropout", "bias", "fan_in_fan_out", "use_rslora",
          "use_dora", "modules_to_save", "task_type", "base_model_name_or_path", "inference_mode",
          "init_lora_weights", "rank_pattern", "alpha_pattern"):
    assert k in cfg, k
tensors = load(os.path.join(adir, "adapter_model.safetensors"))
ins = load(inputs)
x = ins["x"]
r = cfg["r"]
scale = cfg["lora_alpha"] / (r ** 0.5 if cfg["use_rslora"] else r)
results = {}
modules = sorted({k[len("base_model.model."):-len(".lora_A.weight")] for k in tensors if k.endswith(".lora_A.weight")})
assert modules, list(tensors)
for name in modules:
    a = tensors["base_model.model." + name + ".lora_A.weight"]
    b = tensors["base_model.model." + name + ".lora_B.weight"]
    w = ins[name + ".weight"]
    bias = ins[name + ".bias"]
    if cfg["fan_in_fan_out"]:
        w = w.T  # Conv1D stores (in, out)
    assert a.shape == (r, w.shape[1]) and b.shape == (w.shape[0], r), (name, a.shape, b.shape, w.shape)
    results[name] = x @ w.T + bias + scale * (x @ a.T) @ b.T
for k in tensors:
    assert k.startswith("base_model.model.") and (k.endswith(".lora_A.weight") or k.endswith(".lora_B.weight")), k
save(out, results)
print("ok", len(modules))
