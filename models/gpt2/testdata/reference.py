#!/usr/bin/python3
"""PyTorch reference for graft's GPT-2 (models/gpt2/parity_test.go).

Usage: /usr/bin/python3 reference.py CASEDIR...

Each CASEDIR holds model/ (config.json and model.safetensors written by graft)
and inputs.safetensors (token ids "ids" (N, L) and "lengths" (N), as float32).
The script rebuilds GPT-2 in plain torch with the module names of Hugging
Face's GPT2Model (its own implementation, since Debian ships no
`transformers`), loads graft's weights strictly by name, and writes
CASEDIR/outputs.safetensors with "hidden" (the final hidden states) and
"logits" (the tied LM head), computed in float32 in evaluation mode with a
padding mask from the lengths. It also writes CASEDIR/hf/, the same weights
laid out as a GPT2LMHeadModel checkpoint converted from PyTorch often is:
names prefixed "transformer.", the causal-mask buffers attn.bias and
attn.masked_bias, and lm_head.weight.
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from reftest import load, padding_mask, save

ACT = {
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    "gelu": F.gelu,
    "relu": F.relu,
}


class Conv1D(nn.Module):
    """HF's Conv1D: weight (in, out)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        out = torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight)
        return out.view(x.size()[:-1] + (self.nf,))


class Attention(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        d, n = cfg["n_embd"], cfg["n_positions"]
        self.heads = cfg["n_head"]
        self.scale = cfg.get("scale_attn_weights", True)
        self.inverse_idx = cfg.get("scale_attn_by_inverse_layer_idx", False)
        self.layer_idx = layer_idx
        self.register_buffer("bias", torch.tril(torch.ones(n, n, dtype=torch.uint8)).view(1, 1, n, n), persistent=False)
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.attn_dropout = nn.Dropout(cfg["attn_pdrop"])
        self.resid_dropout = nn.Dropout(cfg["resid_pdrop"])

    def split(self, x):
        n, l, d = x.shape
        return x.view(n, l, self.heads, d // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.c_attn(x).split(x.size(-1), dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        w = q @ k.transpose(-1, -2)
        if self.scale:
            w = w / math.sqrt(v.size(-1))
        if self.inverse_idx:
            w = w / float(self.layer_idx + 1)
        length = x.size(1)
        causal = self.bias[:, :, :length, :length].bool()
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = w + mask
        w = self.attn_dropout(F.softmax(w, dim=-1))
        out = (w @ v).permute(0, 2, 1, 3).reshape(x.shape)
        return self.resid_dropout(self.c_proj(out))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["n_embd"]
        inner = cfg.get("n_inner") or 4 * d
        self.c_fc = Conv1D(inner, d)
        self.c_proj = Conv1D(d, inner)
        self.act = ACT[cfg["activation_function"]]
        self.dropout = nn.Dropout(cfg["resid_pdrop"])

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        d, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(cfg, layer_idx)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = MLP(cfg)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["n_embd"]
        self.wte = nn.Embedding(cfg["vocab_size"], d)
        self.wpe = nn.Embedding(cfg["n_positions"], d)
        self.drop = nn.Dropout(cfg["embd_pdrop"])
        self.h = nn.ModuleList([Block(cfg, i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(d, eps=cfg["layer_norm_epsilon"])

    def forward(self, ids, lengths):
        length = ids.size(1)
        pos = torch.arange(length)[None, :]
        x = self.drop(self.wte(ids) + self.wpe(pos))
        mask = padding_mask(lengths, length)
        for block in self.h:
            x = block(x, mask)
        return self.ln_f(x)


def run(case):
    with open(os.path.join(case, "model", "config.json")) as f:
        cfg = json.load(f)
    model = GPT2Model(cfg)
    model.load_state_dict(load(os.path.join(case, "model", "model.safetensors")), strict=True)
    model.eval()
    inputs = load(os.path.join(case, "inputs.safetensors"))
    ids, lengths = inputs["ids"].long(), inputs["lengths"].long()
    with torch.no_grad():
        hidden = model(ids, lengths)
        logits = hidden @ model.wte.weight.t()
    save(os.path.join(case, "outputs.safetensors"), {"hidden": hidden, "logits": logits}, {"torch": torch.__version__})

    hf = {"transformer." + k: v for k, v in model.state_dict().items()}
    n = cfg["n_positions"]
    for i in range(cfg["n_layer"]):
        hf["transformer.h.%d.attn.bias" % i] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
        hf["transformer.h.%d.attn.masked_bias" % i] = torch.tensor(-1e4)
    hf["lm_head.weight"] = model.wte.weight
    os.makedirs(os.path.join(case, "hf"), exist_ok=True)
    save(os.path.join(case, "hf", "model.safetensors"), hf, {"format": "pt"})
    cfg["architectures"] = ["GPT2LMHeadModel"]
    cfg["n_ctx"] = n  # a key older configs carry, unknown to graft
    with open(os.path.join(case, "hf", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    torch.set_num_threads(2)
    for case in sys.argv[1:]:
        run(case)
