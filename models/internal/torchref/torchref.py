"""Shared pieces of the PyTorch reference scripts of graft's models.

load reads a safetensors file into torch tensors without the safetensors
package (Debian ships none). The format: an 8-byte little-endian header length
N, N bytes of JSON mapping each name to its dtype, shape and byte range
[begin, end) within the data that follows (plus an optional "__metadata__"
map of strings), then the data, little-endian and row-major. save (from
internal/pyref) writes one. ACT maps Hugging Face activation names to
functions, and attention is plain multi-head scaled dot-product attention.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../internal/pyref"))
from safetensors_write import save  # noqa: E402,F401

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

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def load(path):
    """Returns (tensors, metadata): name -> torch.Tensor and the metadata map."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta
