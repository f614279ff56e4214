"""Reference outputs of graft's image transforms, computed with PyTorch.

Usage: transforms_ref.py DIR. Reads DIR/x.bin (float32, little-endian,
shape (2,3,9,9)) and DIR/y.bin (float32, shape (2,3,8,6)), writes one
float32 file per case into DIR. Run by data's TestTransformsTorchParity.
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

d = sys.argv[1]
x = torch.from_numpy(np.fromfile(f"{d}/x.bin", dtype="<f4").reshape(2, 3, 9, 9).copy())
y = torch.from_numpy(np.fromfile(f"{d}/y.bin", dtype="<f4").reshape(2, 3, 8, 6).copy())


def save(name, t):
    t.contiguous().numpy().astype("<f4").tofile(f"{d}/{name}.bin")


# Rotation by 30° counter-clockwise as the image is viewed: output (x, y)
# in normalised coordinates (y pointing down) samples the input at
# (cos x − sin y, sin x + cos y); align_corners=True puts ±1 on the
# centres of the border pixels, so the centre of rotation is the image's.
a = math.radians(30)
theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]).expand(2, 2, 3)
grid = F.affine_grid(theta, list(x.shape), align_corners=True)
save("rotate30", F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True))

save("bilinear_4x13", F.interpolate(y, size=(4, 13), mode="bilinear", align_corners=False))
save("bilinear_11x3", F.interpolate(y, size=(11, 3), mode="bilinear", align_corners=False))
save("area_4x3", F.adaptive_avg_pool2d(y, (4, 3)))

sigma = 1.3
r = math.ceil(3 * sigma)
k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64) ** 2 / (2 * sigma * sigma))
k = (k / k.sum()).float()
w = (k[:, None] * k[None, :]).expand(3, 1, 2 * r + 1, 2 * r + 1)
save("blur1.3", F.conv2d(F.pad(y, (r, r, r, r), mode="reflect"), w, groups=3))
