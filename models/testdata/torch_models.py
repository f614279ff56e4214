#!/usr/bin/python3
"""PyTorch reference for graft's models package (models/parity_test.go).

Usage: /usr/bin/python3 torch_models.py IN.safetensors OUT.safetensors [IN OUT …]

Each IN holds a model's state dict under graft's parameter names, the input batch
as "data.x", and in its metadata the case ("mlp", "lenet" or "resnet") and
the configuration as JSON. This script builds the same architecture in plain
torch with the same names, loads the weights strictly, runs the model in
evaluation mode (batch norm with its running statistics) and writes
"features", "logits" and "count" (the number of parameters) to its OUT.
"""

import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../internal/torchref"))
from torchref import ACT, load, save  # noqa: E402


class MLP(nn.Sequential):
    def __init__(self, c):
        layers, sizes = [], [c["Inputs"]] + (c["Hidden"] or []) + [c["Classes"]]
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.ReLU())
        super().__init__(*layers)

    def features(self, x):
        for layer in list(self)[:-1]:
            x = layer(x)
        return x

    def head(self, f):
        return self[-1](f)


class LeNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        k, self.act = c["Kernel"], ACT[c["Activation"]]
        self.pool = nn.AvgPool2d(2) if c["AvgPool"] else nn.MaxPool2d(2)
        self.conv1 = nn.Conv2d(c["InChannels"], 6, k, padding=c["Padding"])
        self.conv2 = nn.Conv2d(6, 16, k)
        with torch.no_grad():
            size = self.convs(torch.zeros(1, c["InChannels"], c["ImageSize"], c["ImageSize"])).shape[1]
        self.fc1 = nn.Linear(size, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, c["Classes"])

    def convs(self, x):
        x = self.pool(self.act(self.conv1(x)))
        return torch.flatten(self.pool(self.act(self.conv2(x))), 1)

    def features(self, x):
        return self.act(self.fc2(self.act(self.fc1(self.convs(x)))))

    def head(self, f):
        return self.fc3(f)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = None
        if stride != 1 or cin != cout:
            if shortcut == "B":
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            else:
                self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if hasattr(self, "downsample"):
            s = self.downsample(x)
        elif self.pad is not None:
            s = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            s = x
        return F.relu(y + s)


class ResNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        n, w = (c["Depth"] - 2) // 6, c["Widths"]
        self.conv1 = nn.Conv2d(c["InChannels"], w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        cin = w[0]
        for s in range(3):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(cin, w[s], 2 if s > 0 and i == 0 else 1, c["Shortcut"]))
                cin = w[s]
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, c["Classes"])

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return x.mean((2, 3))

    def head(self, f):
        return self.fc(f)


def run(inpath, outpath):
    tensors, meta = load(inpath)
    cfg = json.loads(meta["config"])
    model = {"mlp": MLP, "lenet": LeNet, "resnet": ResNet}[meta["case"]](cfg)
    x = tensors.pop("data.x")
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        f = model.features(x.flatten(1) if meta["case"] == "mlp" else x)
        logits = model.head(f)
    count = sum(p.numel() for p in model.parameters())
    save(outpath, {"features": f, "logits": logits, "count": torch.tensor(float(count))})


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit("usage: torch_models.py IN OUT [IN OUT ...]")
    for i in range(0, len(args), 2):
        run(args[i], args[i + 1])


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(2)
    main()
