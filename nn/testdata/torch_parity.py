#!/usr/bin/python3
"""Reference values from PyTorch for graft's parity tests (nn/parity_test.go).

Usage: /usr/bin/python3 torch_parity.py OUTDIR

For every case it writes two safetensors files (all tensors float32):

  OUTDIR/<case>.in.safetensors   the inputs: model weights and buffers under
                                 graft's parameter names (loadable with
                                 nn.LoadStateDict, strict), plus the data under
                                 "data.<name>" (inputs, labels, targets, masks,
                                 the upstream gradient of single ops)
  OUTDIR/<case>.ref.safetensors  what PyTorch computed: "output", "loss",
                                 "grad.<name>" for every parameter and for each
                                 data tensor that takes a gradient, and
                                 "state.<name>" for every buffer after the
                                 forward pass (batch-norm running statistics)

Models run in training mode with dropout 0, float32, a fixed seed and two
threads, so the numbers are the same on every run on the same machine. Labels
are stored as float32 (ignored ones as -100). The safetensors format is
written by internal/pyref/safetensors_write.py, because Debian ships no Python package for it.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../internal/pyref"))
from safetensors_write import save  # noqa: E402

SEED = 20240611


def write_case(outdir, case, inputs, refs, **metadata):
    metadata.update(case=case, torch=torch.__version__, seed=SEED)
    save(os.path.join(outdir, case + ".in.safetensors"), inputs, metadata)
    save(os.path.join(outdir, case + ".ref.safetensors"), refs, metadata)


def graft_name_map(name, d):
    """Maps a PyTorch parameter name to graft's names and row slices.

    graft splits nn.MultiheadAttention's packed in_proj_weight (3d, d) and
    in_proj_bias (3d) into q_proj, k_proj and v_proj (rows 0:d, d:2d, 2d:3d).
    """
    for packed, suffix in (("in_proj_weight", "weight"), ("in_proj_bias", "bias")):
        if name.endswith(packed):
            prefix = name[: -len(packed)]
            return [(prefix + p + "_proj." + suffix, slice(i * d, (i + 1) * d)) for i, p in enumerate("qkv")]
    return [(name, slice(None))]


def to_graft(named, d=None):
    """Renames (and splits) name -> tensor pairs the way graft names them,
    copying the values (a state dict shares the model's live buffers)."""
    out = {}
    for name, t in named:
        for gname, rows in graft_name_map(name, d):
            out[gname] = t.detach().clone() if t.dim() == 0 else t.detach()[rows].clone()
    return out


def perturb(model, gen, scale=0.1):
    """Gives norm weights and all biases generic values instead of 1 and 0,
    so every parameter's gradient is exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(scale * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:  # norm weights
                p.copy_(1 + scale * torch.randn(p.shape, generator=gen))


def model_case(outdir, case, model, data, forward, d=None, **metadata):
    """Runs forward (returning output and loss) on the model and the data
    tensors, back-propagates, and writes the case's inputs and references.
    Data tensors that require grad get a "grad.data.<name>" reference."""
    inputs = to_graft(model.state_dict().items(), d)
    inputs.update({"data." + k: v for k, v in data.items()})
    out, loss = forward(model, data)
    loss.backward()
    refs = {"output": out, "loss": loss}
    refs.update({"grad." + k: v for k, v in to_graft(((n, p.grad) for n, p in model.named_parameters()), d).items()})
    refs.update({"grad.data." + k: v.grad for k, v in data.items() if v.requires_grad})
    refs.update({"state." + n: b for n, b in model.named_buffers()})
    write_case(outdir, case, inputs, refs, **metadata)


def mlp(outdir, gen):
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    data = {
        "x": torch.randn(128, 784, generator=gen).requires_grad_(),
        "labels": torch.randint(0, 10, (128,), generator=gen).float(),
    }

    def forward(m, d):
        out = m(d["x"])
        return out, F.cross_entropy(out, d["labels"].long(), label_smoothing=0.1)

    model_case(outdir, "mlp", model, data, forward, label_smoothing=0.1)


def cnn(outdir, gen):
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.GELU(), nn.Linear(120, 10),
    )
    perturb(model, gen)
    bn = model[1]
    with torch.no_grad():  # non-default running statistics, to see the update rule
        bn.running_mean.copy_(0.1 * torch.randn(6, generator=gen))
        bn.running_var.copy_(1 + torch.rand(6, generator=gen))
        bn.num_batches_tracked.fill_(3)
    model.train()
    data = {
        "x": torch.randn(64, 1, 28, 28, generator=gen).requires_grad_(),
        "labels": torch.randint(0, 10, (64,), generator=gen).float(),
    }

    def forward(m, d):
        out = m(d["x"])
        return out, F.cross_entropy(out, d["labels"].long())

    model_case(outdir, "cnn", model, data, forward)


def transformer(outdir, gen, case, n, length, d, heads, ff, activation, norm_first, eps, causal, lengths):
    model = nn.TransformerEncoderLayer(
        d_model=d, nhead=heads, dim_feedforward=ff, dropout=0.0, activation=activation,
        layer_norm_eps=eps, batch_first=True, norm_first=norm_first,
    )
    perturb(model, gen)
    model.train()
    data = {
        "x": torch.randn(n, length, d, generator=gen).requires_grad_(),
        "target": torch.randn(n, length, d, generator=gen),
    }
    if lengths is not None:
        data["lengths"] = torch.tensor(lengths, dtype=torch.float32)

    def forward(m, dd):
        mask = None
        if causal:
            mask = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        kpm = None
        if lengths is not None:
            kpm = torch.arange(length)[None, :] >= dd["lengths"].long()[:, None]  # True = padding
        out = m(dd["x"], src_mask=mask, src_key_padding_mask=kpm)
        return out, F.mse_loss(out, dd["target"])

    model_case(outdir, case, model, data, forward, d=d, heads=heads, ff=ff, activation=activation,
               norm_first=norm_first, eps=eps, causal=causal)


def op_case(outdir, case, data, fn, **metadata):
    """A single op: out = fn(data); the gradient is that of sum(out * upstream)
    for a tensor output (upstream stored as data.upstream), or of out itself for
    a scalar loss."""
    out = fn(data)
    refs = {"output": out}
    if out.dim() == 0:
        out.backward()
    else:
        up = torch.randn(out.shape)
        data["upstream"] = up
        out.backward(up)
    refs.update({"grad.data." + k: v.grad for k, v in data.items() if v.requires_grad})
    write_case(outdir, case, {"data." + k: v for k, v in data.items()}, refs, **metadata)


def ops(outdir, gen):
    def randn(*shape, scale=1.0, shift=0.0, grad=True):
        t = scale * torch.randn(*shape, generator=gen) + shift
        return t.requires_grad_(grad)

    op_case(outdir, "conv2d_s2p1d2g2",
            {"x": randn(3, 4, 11, 13), "weight": randn(6, 2, 3, 3, scale=0.3), "bias": randn(6)},
            lambda d: F.conv2d(d["x"], d["weight"], d["bias"], stride=2, padding=1, dilation=2, groups=2))
    op_case(outdir, "conv2d_asym",
            {"x": randn(2, 3, 9, 8), "weight": randn(5, 3, 2, 3, scale=0.3), "bias": randn(5)},
            lambda d: F.conv2d(d["x"], d["weight"], d["bias"], stride=(2, 1), padding=(1, 2), dilation=(1, 2)))
    op_case(outdir, "max_pool2d_k3s2p1", {"x": randn(2, 3, 10, 9)},
            lambda d: F.max_pool2d(d["x"], 3, stride=2, padding=1))
    op_case(outdir, "avg_pool2d_k3s2p1", {"x": randn(2, 3, 10, 9)},
            lambda d: F.avg_pool2d(d["x"], 3, stride=2, padding=1))
    # Off-centre, large-scale rows stress the mean/variance computation.
    op_case(outdir, "layer_norm",
            {"x": randn(6, 5, 48, scale=3, shift=10), "weight": randn(48, scale=0.2, shift=1), "bias": randn(48, scale=0.2)},
            lambda d: F.layer_norm(d["x"], (48,), d["weight"], d["bias"], eps=1e-5))
    op_case(outdir, "layer_norm_2d",
            {"x": randn(6, 5, 48, scale=3, shift=-7), "weight": randn(5, 48, scale=0.2, shift=1), "bias": randn(5, 48, scale=0.2)},
            lambda d: F.layer_norm(d["x"], (5, 48), d["weight"], d["bias"], eps=1e-6))
    # Values far beyond exp's float32 range (e^89 overflows).
    op_case(outdir, "softmax_large", {"x": randn(16, 100, scale=40, shift=500)},
            lambda d: F.softmax(d["x"], dim=-1))
    op_case(outdir, "log_softmax_large", {"x": randn(16, 100, scale=40, shift=-500)},
            lambda d: F.log_softmax(d["x"], dim=-1))
    op_case(outdir, "log_softmax_axis1", {"x": randn(4, 33, 7, scale=30, shift=200)},
            lambda d: F.log_softmax(d["x"], dim=1))
    op_case(outdir, "gelu", {"x": randn(4, 257, scale=3)}, lambda d: F.gelu(d["x"]))

    labels = torch.randint(0, 7, (20,), generator=gen)
    labels[[2, 5, 11]] = -100
    op_case(outdir, "cross_entropy_weighted_smoothed",
            {"x": randn(20, 7, scale=2), "labels": labels.float().requires_grad_(False),
             "weight": (0.5 + torch.rand(7, generator=gen))},
            lambda d: F.cross_entropy(d["x"], d["labels"].long(), weight=d["weight"], ignore_index=-100,
                                      label_smoothing=0.2),
            label_smoothing=0.2, ignore_index=-100)

    targets = torch.rand(16, 5, generator=gen)
    targets[:8] = targets[:8].round()  # half hard 0/1 labels, half soft
    op_case(outdir, "bce_with_logits_pos_weight",
            {"x": randn(16, 5, scale=3), "target": targets, "pos_weight": 0.5 + 2.5 * torch.rand(5, generator=gen)},
            lambda d: F.binary_cross_entropy_with_logits(d["x"], d["target"], pos_weight=d["pos_weight"]))

    p = torch.softmax(torch.randn(8, 10, generator=gen), dim=-1)
    p[0, :3] = 0  # zero probabilities contribute nothing
    p[5, 7] = 0
    p = p / p.sum(-1, keepdim=True)
    logq = torch.log_softmax(torch.randn(8, 10, generator=gen), dim=-1)
    op_case(outdir, "kl_div_batchmean", {"x": logq.requires_grad_(), "target": p},
            lambda d: F.kl_div(d["x"], d["target"], reduction="batchmean"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: torch_parity.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float32)
    gen = torch.Generator().manual_seed(SEED)
    mlp(outdir, gen)
    cnn(outdir, gen)
    transformer(outdir, gen, "transformer", n=32, length=64, d=256, heads=4, ff=1024, activation="gelu",
                norm_first=False, eps=1e-5, causal=True, lengths=None)
    transformer(outdir, gen, "transformer_prenorm_padding", n=4, length=10, d=64, heads=4, ff=96,
                activation="relu", norm_first=True, eps=1e-6, causal=False, lengths=[10, 7, 3, 1])
    ops(outdir, gen)


if __name__ == "__main__":
    main()
