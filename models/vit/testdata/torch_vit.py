#!/usr/bin/python3
"""PyTorch reference for graft's ViT (models/vit/parity_test.go).

Usage: /usr/bin/python3 torch_vit.py DIR [DIR …]

Each DIR is a checkpoint graft saved in the Hugging Face layout (config.json
and model.safetensors) plus inputs.safetensors holding the images as "data.x".
This script builds ViTModel or ViTForImageClassification (as config.json's
architectures says) in plain torch, with Hugging Face's parameter names,
loads the weights strictly, runs the images through it in evaluation mode and
writes DIR/outputs.safetensors: "last_hidden_state", and "pooler_output" or
"logits" where the model has them.
"""

import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../internal/torchref"))
from torchref import ACT, attention, load, save  # noqa: E402


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, bias = c["hidden_size"], c["qkv_bias"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = (nn.Linear(d, d, bias=bias) for _ in range(3))

    def forward(self, x):
        return attention(self.query(x), self.key(x), self.value(x), self.heads)


class Dense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.dense = nn.Linear(i, o)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = SelfAttention(c)
        self.output = Dense(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return self.output.dense(self.attention(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.act = ACT[c["hidden_act"]]
        self.attention = Attention(c)
        self.intermediate = Dense(d, c["intermediate_size"])
        self.output = Dense(c["intermediate_size"], d)
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        h = x + self.attention(self.layernorm_before(x))
        return h + self.output.dense(self.act(self.intermediate.dense(self.layernorm_after(h))))


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        patches = (c["image_size"] // p) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.position_embeddings = nn.Parameter(torch.zeros(1, patches + 1, d))
        self.patch_embeddings = nn.Module()
        self.patch_embeddings.projection = nn.Conv2d(c["num_channels"], d, p, stride=p)

    def forward(self, x):
        tokens = self.patch_embeddings.projection(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat([cls, tokens], 1) + self.position_embeddings


class ViTModel(nn.Module):
    def __init__(self, c, pooler):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.layernorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        if pooler:
            self.pooler = Dense(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        h = self.embeddings(x)
        for layer in self.encoder.layer:
            h = layer(h)
        h = self.layernorm(h)
        out = {"last_hidden_state": h}
        if hasattr(self, "pooler"):
            out["pooler_output"] = torch.tanh(self.pooler.dense(h[:, 0]))
        return out


class ViTForImageClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vit = ViTModel(c, pooler=False)
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(self, x):
        out = self.vit(x)
        out["logits"] = self.classifier(out["last_hidden_state"][:, 0])
        return out


def run(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    weights, _ = load(os.path.join(d, "model.safetensors"))
    if c["architectures"] == ["ViTForImageClassification"]:
        model = ViTForImageClassification(c)
    else:
        model = ViTModel(c, pooler="pooler.dense.weight" in weights)
    model.load_state_dict(weights, strict=True)
    model.eval()
    inputs, _ = load(os.path.join(d, "inputs.safetensors"))
    with torch.no_grad():
        out = model(inputs["data.x"])
    save(os.path.join(d, "outputs.safetensors"), out)


if __name__ == "__main__":
    torch.set_num_threads(2)
    for d in sys.argv[1:]:
        run(d)
