"""Reads a safetensors file into torch tensors without the safetensors package.

Used by the PyTorch reference scripts of graft's models (Debian ships no
Python package for the format). The format: an 8-byte little-endian header
length N, N bytes of JSON mapping each name to its dtype, shape and byte range
[begin, end) within the data that follows (plus an optional "__metadata__"
map of strings), then the data, little-endian and row-major.
"""

import json
import struct

import numpy as np
import torch

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
