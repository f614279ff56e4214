#!/usr/bin/python3
"""PyTorch reference for graft's BERT (models/bert/parity_test.go).

Usage: /usr/bin/python3 reference.py CASEDIR...

Each CASEDIR holds model/ (config.json and model.safetensors of a sequence
classifier written by graft) and inputs.safetensors ("ids", "token_types"
(N, L) and "lengths" (N), as float32). The script rebuilds
BertForSequenceClassification in plain torch with Hugging Face's module names
(its own implementation, since Debian ships no `transformers`), loads graft's
weights strictly by name, and writes CASEDIR/outputs.safetensors with
"sequence" (final hidden states), "pooled" and "logits", computed in float32 in
evaluation mode with HF's additive padding mask. It also writes CASEDIR/hf/,
the encoder's weights laid out as an old BertForPreTraining checkpoint:
"bert." prefixes, LayerNorm.gamma/beta, embeddings.position_ids and cls.*
pre-training heads, without the classifier.
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from reftest import load, padding_mask, save

ACT = {"gelu": F.gelu, "relu": F.relu, "gelu_new": lambda x: F.gelu(x, approximate="tanh")}


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h, padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, token_types):
        pos = torch.arange(ids.size(1))[None, :]
        x = self.word_embeddings(ids) + self.token_type_embeddings(token_types) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def split(self, x):
        n, l, h = x.shape
        return x.view(n, l, self.heads, h // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1)) + mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        return (probs @ v).permute(0, 2, 1, 3).reshape(x.shape)


class BertSelfOutput(nn.Module):
    def __init__(self, c, width):
        super().__init__()
        h = c["hidden_size"]
        self.dense = nn.Linear(width, h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, inp):
        return self.LayerNorm(self.dropout(self.dense(x)) + inp)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = ACT[c["hidden_act"]]

    def forward(self, x):
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertSelfOutput(c, c["intermediate_size"])  # BertOutput has the same shape

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, ids, token_types, lengths):
        seq = self.encoder(self.embeddings(ids, token_types), padding_mask(lengths, ids.size(1)))
        return seq, self.pooler(seq)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        p = c.get("classifier_dropout")
        self.dropout = nn.Dropout(c["hidden_dropout_prob"] if p is None else p)
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(self, ids, token_types, lengths):
        seq, pooled = self.bert(ids, token_types, lengths)
        return seq, pooled, self.classifier(self.dropout(pooled))


def old_name(name):
    """The name an old TensorFlow-converted checkpoint gives a parameter."""
    if ".LayerNorm." in name:
        name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    return "bert." + name


def run(case):
    with open(os.path.join(case, "model", "config.json")) as f:
        cfg = json.load(f)
    model = BertForSequenceClassification(cfg)
    model.load_state_dict(load(os.path.join(case, "model", "model.safetensors")), strict=True)
    model.eval()
    inputs = load(os.path.join(case, "inputs.safetensors"))
    ids, types, lengths = inputs["ids"].long(), inputs["token_types"].long(), inputs["lengths"].long()
    with torch.no_grad():
        seq, pooled, logits = model(ids, types, lengths)
    save(os.path.join(case, "outputs.safetensors"), {"sequence": seq, "pooled": pooled, "logits": logits},
         {"torch": torch.__version__})

    gen = torch.Generator().manual_seed(0)
    h, v = cfg["hidden_size"], cfg["vocab_size"]
    out = {old_name(k): t for k, t in model.bert.state_dict().items()}
    out["bert.embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"])[None, :].float()
    out["cls.predictions.bias"] = torch.randn(v, generator=gen)
    out["cls.predictions.transform.dense.weight"] = torch.randn(h, h, generator=gen)
    out["cls.predictions.transform.dense.bias"] = torch.randn(h, generator=gen)
    out["cls.predictions.transform.LayerNorm.gamma"] = torch.ones(h)
    out["cls.predictions.transform.LayerNorm.beta"] = torch.zeros(h)
    out["cls.seq_relationship.weight"] = torch.randn(2, h, generator=gen)
    out["cls.seq_relationship.bias"] = torch.randn(2, generator=gen)
    os.makedirs(os.path.join(case, "hf"), exist_ok=True)
    save(os.path.join(case, "hf", "model.safetensors"), out, {"format": "pt"})
    base = {k: x for k, x in cfg.items() if k not in ("id2label", "label2id")}
    base["architectures"] = ["BertForPreTraining"]
    base["transformers_version"] = "4.6.0.dev0"  # a key graft does not know
    with open(os.path.join(case, "hf", "config.json"), "w") as f:
        json.dump(base, f, indent=2)


if __name__ == "__main__":
    torch.set_num_threads(2)
    for case in sys.argv[1:]:
        run(case)
