#!/usr/bin/python3
"""PyTorch reference for graft's CLIP (models/clip/clip_test.go).

Usage: /usr/bin/python3 torch_clip.py DIR [DIR …]

Each DIR is a checkpoint graft saved in the Hugging Face layout (config.json
and model.safetensors) plus inputs.safetensors holding images ("data.images") and
token ids ("data.ids", as float32, one padded row per text). This script builds CLIPModel in plain
torch with Hugging Face's parameter names, loads the weights strictly, and
writes DIR/outputs.safetensors: the text encoder's last hidden state, the
image encoder's last hidden state and pooled output, both embeddings
(projected, not normalised) and logits_per_image. A text's end-of-text
position is where eos_token_id first occurs, or, for the legacy
eos_token_id 2, where its largest id is (as Hugging Face picks it).
"""

import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../internal/torchref"))
from torchref import ACT, attention, load, save  # noqa: E402


class SelfAttn(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask):
        return self.out_proj(attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), self.heads, mask))


class Layer(nn.Module):
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
    e.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
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


def run(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    weights, _ = load(os.path.join(d, "model.safetensors"))
    model = CLIP(c)
    model.load_state_dict(weights, strict=True)
    model.eval()
    x, _ = load(os.path.join(d, "inputs.safetensors"))
    with torch.no_grad():
        out = model(x["data.images"], x["data.ids"].long(), c["text_config"]["eos_token_id"])
    save(os.path.join(d, "outputs.safetensors"), out)


if __name__ == "__main__":
    torch.set_num_threads(2)
    for d in sys.argv[1:]:
        run(d)
