#!/usr/bin/python3
"""PyTorch reference for the parity tests of graft's models, models/vit and
models/clip (parity_test.go in each).

Usage: /usr/bin/python3 torch_models.py DIR [DIR …]

Each DIR holds what a test saved: model.safetensors (the weights under
graft's names, which are Hugging Face's for ViT and CLIP), config.json and
inputs.safetensors. config.json is a Hugging Face config ("model_type" vit or
clip; ViTModel or ViTForImageClassification as "architectures" says) or, for
the models package, {"graft_case": "mlp" | "lenet" | "resnet", "config":
graft's config struct}. This script builds the same architecture in plain
torch with the same parameter names, loads the weights strictly, runs it in
evaluation mode (batch norm on its running statistics) on the inputs and
writes DIR/outputs.safetensors:

  mlp, lenet, resnet  "features", "logits", "count" (number of parameters),
                      for images "x"
  vit                 "last_hidden_state", and "pooler_output" or "logits"
                      where the model has them, for images "x"
  clip                "text_last_hidden_state", "vision_last_hidden_state",
                      "vision_pooled", "image_embeds", "text_embeds" (projected,
                      not normalised) and "logits_per_image", for images
                      "images" and padded token ids "ids"; a text's
                      end-of-text position is where eos_token_id first occurs,
                      or, for the legacy eos_token_id 2, where its largest id
                      is (as Hugging Face picks it)
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from reftest import load, save  # on PYTHONPATH (models/internal/reftest)

ACT = {
    "relu": F.relu,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
}


def attention(q, k, v, heads, mask=None):
    """softmax(q·kᵀ/√e + mask)·v over heads heads for q, k, v (N, L, D)."""
    n, length, d = q.shape
    e = d // heads

    def split(x):
        return x.view(n, -1, heads, e).transpose(1, 2)

    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(e)
    if mask is not None:
        scores = scores + mask
    return (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(n, length, d)


# models: MLP, LeNet, CIFAR ResNet


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


# ViT (Hugging Face's ViTModel names)


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


class ViTLayer(nn.Module):
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


class ViTEmbeddings(nn.Module):
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
        self.embeddings = ViTEmbeddings(c)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(ViTLayer(c) for _ in range(c["num_hidden_layers"]))
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


# CLIP (Hugging Face's CLIPModel names)


class SelfAttn(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        return self.out_proj(attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), self.heads, mask))


class CLIPLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.act = ACT[c["hidden_act"]]
        self.self_attn = SelfAttn(d, c["num_attention_heads"])
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, c["intermediate_size"])
        self.mlp.fc2 = nn.Linear(c["intermediate_size"], d)
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, x, mask):
        h = x + self.self_attn(self.layer_norm1(x), mask)
        return h + self.mlp.fc2(self.act(self.mlp.fc1(self.layer_norm2(h))))


def encoder(c):
    e = nn.Module()
    e.layers = nn.ModuleList(CLIPLayer(c) for _ in range(c["num_hidden_layers"]))
    return e


def run_encoder(e, x, mask=None):
    for layer in e.layers:
        x = layer(x, mask)
    return x


class Text(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.embeddings = nn.Module()
        self.embeddings.token_embedding = nn.Embedding(c["vocab_size"], d)
        self.embeddings.position_embedding = nn.Embedding(c["max_position_embeddings"], d)
        self.encoder = encoder(c)
        self.final_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, ids, eot):
        n, length = ids.shape
        x = self.embeddings.token_embedding(ids) + self.embeddings.position_embedding.weight[:length]
        mask = torch.full((length, length), float("-inf")).triu(1)
        h = self.final_layer_norm(run_encoder(self.encoder, x, mask))
        return h, h[torch.arange(n), eot]


class Vision(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        self.embeddings = nn.Module()
        self.embeddings.class_embedding = nn.Parameter(torch.zeros(d))
        self.embeddings.patch_embedding = nn.Conv2d(c["num_channels"], d, p, stride=p, bias=False)
        self.embeddings.position_embedding = nn.Embedding((c["image_size"] // p) ** 2 + 1, d)
        self.pre_layrnorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.encoder = encoder(c)
        self.post_layernorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, images):
        e = self.embeddings
        patches = e.patch_embedding(images).flatten(2).transpose(1, 2)
        cls = e.class_embedding.expand(images.shape[0], 1, -1)
        x = torch.cat([cls, patches], 1) + e.position_embedding.weight
        h = run_encoder(self.encoder, self.pre_layrnorm(x))
        return h, self.post_layernorm(h[:, 0])


class CLIP(nn.Module):
    def __init__(self, c):
        super().__init__()
        t, v, p = c["text_config"], c["vision_config"], c["projection_dim"]
        self.text_model = Text(t)
        self.vision_model = Vision(v)
        self.visual_projection = nn.Linear(v["hidden_size"], p, bias=False)
        self.text_projection = nn.Linear(t["hidden_size"], p, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(0.0))

    def forward(self, images, ids, eos):
        eot = ids.argmax(-1) if eos == 2 else (ids == eos).int().argmax(-1)
        th, tp = self.text_model(ids, eot)
        vh, vp = self.vision_model(images)
        img, txt = self.visual_projection(vp), self.text_projection(tp)
        logits = F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t() * self.logit_scale.exp()
        return {
            "text_last_hidden_state": th, "vision_last_hidden_state": vh, "vision_pooled": vp,
            "image_embeds": img, "text_embeds": txt, "logits_per_image": logits,
        }

def build(c, weights):
    """The torch model for config c and its forward pass on the inputs."""
    if "graft_case" in c:
        case = c["graft_case"]
        model = {"mlp": MLP, "lenet": LeNet, "resnet": ResNet}[case](c["config"])

        def forward(x):
            f = model.features(x["x"].flatten(1) if case == "mlp" else x["x"])
            count = sum(p.numel() for p in model.parameters())
            return {"features": f, "logits": model.head(f), "count": torch.tensor(float(count))}

    elif c["model_type"] == "vit":
        if c["architectures"] == ["ViTForImageClassification"]:
            model = ViTForImageClassification(c)
        else:
            model = ViTModel(c, pooler="pooler.dense.weight" in weights)

        def forward(x):
            return model(x["x"])

    elif c["model_type"] == "clip":
        model = CLIP(c)

        def forward(x):
            return model(x["images"], x["ids"].long(), c["text_config"]["eos_token_id"])

    else:
        raise ValueError("unknown model in config: %r" % c)
    return model, forward


def run(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    weights = load(os.path.join(d, "model.safetensors"))
    model, forward = build(c, weights)
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        out = forward(load(os.path.join(d, "inputs.safetensors")))
    save(os.path.join(d, "outputs.safetensors"), out)


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(2)
    for d in sys.argv[1:]:
        run(d)
