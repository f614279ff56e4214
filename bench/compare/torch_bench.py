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


BENCHES = {"mlp": mlp, "cnn": cnn, "transformer": transformer}


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
