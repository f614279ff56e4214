"""The Python half of graft's model parity tests (models/internal/reftest).

Reads safetensors files without the safetensors package (Debian has none):
an 8-byte little-endian header length, a JSON header, then raw little-endian
data. Writing is internal/pyref/safetensors_write.py's save, re-exported here.
"""

import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../internal/pyref"))
from safetensors_write import save  # noqa: E402,F401

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32}


def load(path):
    """Returns name -> tensor for every tensor in a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=DTYPES[info["dtype"]]) if hi > lo else torch.empty(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def padding_mask(lengths, length):
    """HF's extended attention mask: (N, 1, 1, L), 0 for real tokens and the
    most negative float for padding."""
    keep = torch.arange(length)[None, :] < torch.as_tensor(lengths)[:, None]
    return ((1.0 - keep.float()) * torch.finfo(torch.float32).min)[:, None, None, :]
