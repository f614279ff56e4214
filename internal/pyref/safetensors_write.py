"""Writes float32 tensors to a safetensors file without the safetensors package.

Shared by graft's PyTorch reference scripts (the Python safetensors package is
not a Debian package; the format is an 8-byte little-endian header length, a
JSON header padded with spaces to a multiple of 8, then the raw data).
"""

import json
import os
import struct

import torch


def save(path, tensors, metadata=None):
    """Writes tensors (name -> torch.Tensor) as F32 to a safetensors file."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
