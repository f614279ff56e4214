"""PIL side of graft's image cross-checks (data/dataio/image_test.go).

  image_ref.py write DIR   writes images with PIL (PNG of modes RGB, L, RGBA,
                           P, I;16 and JPEGs) and, for each, DIR/<name>.rgb.npy
                           and DIR/<name>.l.npy: PIL's own decoding converted to
                           RGB (H,W,3) and L (H,W), as float32 in [0, 1]. Also a
                           class folder DIR/folder/<class>/*.png and
                           DIR/folder.npz holding x (N,3,H,W) and labels.
  image_ref.py check DIR   reads the folder DIR/go (written by Go) with PIL and
                           checks every pixel against the formula the Go test
                           used; prints "ok".
"""
import os
import sys

import numpy as np
from PIL import Image


def pattern(h, w):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 37 + y * 11) % 256
    g = (x * 5 + y * 53 + 100) % 256
    b = (x * y * 7) % 256
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def smooth(h, w):
    y, x = np.mgrid[0:h, 0:w]
    r = 40 + 4 * x + 2 * y
    g = 200 - 3 * y
    b = 90 + x + y
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def save_ref(d, name, img):
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255
    lum = np.asarray(img.convert("L"), dtype=np.float32) / 255
    np.save(os.path.join(d, name + ".rgb.npy"), rgb)
    np.save(os.path.join(d, name + ".l.npy"), lum)


def write(d):
    rgb = Image.fromarray(pattern(7, 9), "RGB")
    cases = {
        "rgb.png": rgb,
        "l.png": rgb.convert("L"),
        "p.png": rgb.quantize(colors=16),
        "i16.png": Image.fromarray((np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000), "I;16"),
        "smooth.jpg": Image.fromarray(smooth(16, 16), "RGB"),
        "gray.jpg": Image.fromarray(smooth(16, 16)[:, :, 0], "L"),
    }
    rgba = np.concatenate([pattern(5, 6), ((np.arange(30).reshape(5, 6, 1) * 9) % 256).astype(np.uint8)], axis=-1)
    cases["rgba.png"] = Image.fromarray(rgba, "RGBA")
    for name, img in cases.items():
        p = os.path.join(d, name)
        if name.endswith(".jpg"):
            img.save(p, quality=95, subsampling=0)
        else:
            img.save(p)
        save_ref(d, name, Image.open(p))

    xs, labels = [], []
    for label, cls in enumerate(["ant", "bee", "cat"]):
        os.makedirs(os.path.join(d, "folder", cls))
        for k in range(label + 1):
            a = pattern(6, 4) + np.uint8(40 * label + 7 * k)
            Image.fromarray(a, "RGB").save(os.path.join(d, "folder", cls, "img%d.png" % k))
            xs.append(a.transpose(2, 0, 1).astype(np.float32) / 255)
            labels.append(label)
    np.savez(os.path.join(d, "folder.npz"), x=np.stack(xs), labels=np.array(labels))


def check(d):
    # Go wrote example i of class l with value (i*31 + c*7 + y*5 + x*3) % 256 / 255.
    root = os.path.join(d, "go")
    classes = sorted(os.listdir(root))
    if classes != ["cat", "dog"]:
        raise SystemExit("classes %s" % classes)
    seen = 0
    for cls in classes:
        for f in sorted(os.listdir(os.path.join(root, cls))):
            i = int(f.split(".")[0])
            a = np.asarray(Image.open(os.path.join(root, cls, f)).convert("RGB"), dtype=np.int64)
            h, w, _ = a.shape
            y, x = np.mgrid[0:h, 0:w]
            for c in range(3):
                want = (i * 31 + c * 7 + y * 5 + x * 3) % 256
                if not np.array_equal(a[:, :, c], want):
                    raise SystemExit("%s/%s channel %d: %s, want %s" % (cls, f, c, a[:, :, c], want))
            seen += 1
    if seen != 5:
        raise SystemExit("%d images, want 5" % seen)
    print("ok")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
