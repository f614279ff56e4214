# Reference values for peft/merge's tests, computed with PyTorch.
#
# Input (JSON on stdin):
#   fisher: {x: [[...]], labels: [...], layers: [{weight, bias}, ...]} — an MLP with ReLU between
#           Linear layers; output the diagonal Fisher per parameter, with the expectation over y
#           taken exactly ("expected") and with the true labels ("empirical"), one backward pass
#           per example and label.
#   slerp:  [{a, b, t}, ...] — spherical interpolation of two vectors, with linear interpolation
#           when |cos| > 0.9995.
import json, sys
import torch

inp = json.load(sys.stdin)
out = {}

f = inp["fisher"]
params = []
for layer in f["layers"]:
    params.append(torch.tensor(layer["weight"], dtype=torch.float64, requires_grad=True))
    params.append(torch.tensor(layer["bias"], dtype=torch.float64, requires_grad=True))
x = torch.tensor(f["x"], dtype=torch.float64)


def log_probs(xi):
    h = xi.unsqueeze(0)
    for i in range(0, len(params), 2):
        h = h @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            h = torch.relu(h)
    return torch.log_softmax(h, dim=1)[0]


def squared_grad(xi, y):
    grads = torch.autograd.grad(log_probs(xi)[y], params)
    return [g.detach() ** 2 for g in grads]


expected = [torch.zeros_like(p) for p in params]
empirical = [torch.zeros_like(p) for p in params]
n = x.shape[0]
for i in range(n):
    probs = log_probs(x[i]).exp().detach()
    for y in range(probs.shape[0]):
        for acc, g in zip(expected, squared_grad(x[i], y)):
            acc += probs[y] * g / n
    for acc, g in zip(empirical, squared_grad(x[i], f["labels"][i])):
        acc += g / n
out["fisher"] = {
    "expected": [t.flatten().tolist() for t in expected],
    "empirical": [t.flatten().tolist() for t in empirical],
}

slerps = []
for c in inp["slerp"]:
    a = torch.tensor(c["a"], dtype=torch.float64)
    b = torch.tensor(c["b"], dtype=torch.float64)
    t = c["t"]
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1, 1)
    if cos.abs() > 0.9995:
        r = (1 - t) * a + t * b
    else:
        omega = torch.arccos(cos)
        r = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    slerps.append(r.tolist())
out["slerp"] = slerps
json.dump(out, sys.stdout)
