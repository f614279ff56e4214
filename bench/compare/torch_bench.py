"""PyTorch side of graft's bench/compare tool (run by it; not meant by hand).

Usage: /usr/bin/python3 torch_bench.py NAME STEPS REPEATS WARMUP THREADS
       /usr/bin/python3 torch_bench.py --version

Builds the named benchmark with the same shapes as graft's side, runs WARMUP
untimed training steps, then REPEATS timed runs of STEPS steps each, and prints
one JSON line: {"repeats_ms": [ms/step of each repeat], "loss": last loss}.
A step is zero grad + forward + loss + backward + optimiser step. Adding a
benchmark here means adding a function to BENCHES that returns (model, step).
"""

import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp():
    """MLP 784-256-10 (ReLU), batch 128, cross-entropy, Adam lr 1e-3."""
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    x = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt, lambda: F.cross_entropy(model(x), y)


def cnn():
    """LeNet-style on 28x28x1, batch 64, cross-entropy, Adam lr 1e-3."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    x = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt, lambda: F.cross_entropy(model(x), y)


def transformer():
    """One encoder layer d 256, 4 heads, ff 1024, seq 64, batch 32, MSE, AdamW."""
    model = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    x = torch.randn(32, 64, 256)
    target = torch.randn(32, 64, 256)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    return model, opt, lambda: F.mse_loss(model(x), target)


class LoRALinear(nn.Module):
    """base(x) + (alpha/r)·B(A x), as PEFT's LoRA Linear: A Kaiming-uniform, B zero."""

    def __init__(self, base, r=8, alpha=8):
        super().__init__()
        self.base_layer = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


class EncoderLayer(nn.Module):
    """nn.TransformerEncoderLayer (post-norm, ReLU, batch first, dropout 0)
    written out with separate q/k/v/out Linear layers, as graft's, so that
    LoRA can wrap q_proj and v_proj (torch's MultiheadAttention packs them)."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x):
        n, length, d = x.shape

        def split(t):
            return t.view(n, length, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        ctx = (w @ v).transpose(1, 2).reshape(n, length, d)
        x = self.norm1(x + self.out_proj(ctx))
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


def lora(full=False):
    """LoRA r 8, alpha 8 on q_proj and v_proj of the transformer benchmark's
    layer (written out), base frozen, AdamW over A and B only; full=True
    trains the whole written-out layer instead (lora_full)."""
    model = EncoderLayer(256, 4, 1024)
    if not full:
        for p in model.parameters():
            p.requires_grad_(False)
        model.q_proj, model.v_proj = LoRALinear(model.q_proj), LoRALinear(model.v_proj)
    x = torch.randn(32, 64, 256)
    target = torch.randn(32, 64, 256)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, opt, lambda: F.mse_loss(model(x), target)


BENCHES = {"mlp": mlp, "cnn": cnn, "transformer": transformer, "lora": lora,
           "lora_full": lambda: lora(full=True)}


def main():
    if sys.argv[1:] == ["--version"]:
        print(torch.__version__)
        return
    name, steps, repeats, warmup, threads = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, opt, loss_fn = BENCHES[name]()
    model.train()

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    repeats_ms = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        repeats_ms.append((time.perf_counter() - start) * 1e3 / steps)
    print(json.dumps({"repeats_ms": repeats_ms, "loss": float(loss.item())}))


if __name__ == "__main__":
    main()
