"""NumPy side of graft's NPY/NPZ cross-checks (data/dataio/npy_test.go).

  npy_ref.py write DIR   writes .npy/.npz files of many dtypes, byte orders,
                         memory orders and format versions, and DIR/manifest.json
                         describing them; the Go test reads them and checks the
                         values against the same formulas.
  npy_ref.py check DIR   loads the files the Go test wrote into DIR and checks
                         dtype, shape and values; exits non-zero on a mismatch.

Values: element i (row-major) of a "signed" array is i-7, of "unsigned" i,
of "bool" i%3==0, of "float" (i-7)*0.5+0.25.
"""
import json
import os
import sys

import numpy as np


def values(kind, shape):
    i = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    if kind == "signed":
        return i - 7
    if kind == "unsigned":
        return i
    if kind == "bool":
        return i % 3 == 0
    return (i - 7) * 0.5 + 0.25


def write(d):
    manifest = []

    def add(fname, kind, dtype, shape, fortran=False, version=None):
        a = values(kind, shape).astype(dtype)
        if fortran:
            a = np.asfortranarray(a)
        path = os.path.join(d, fname)
        if version is None:
            np.save(path, a)
        else:
            with open(path, "wb") as f:
                np.lib.format.write_array(f, a, version=version)
        manifest.append({"file": fname, "kind": kind, "shape": list(shape), "descr": np.lib.format.dtype_to_descr(a.dtype)})

    shape = (2, 3, 4)
    for dt in ["<f2", "<f4", "<f8", ">f2", ">f4", ">f8"]:
        add("float_%s%s.npy" % (dt[1:], "_be" if dt[0] == ">" else ""), "float", dt, shape)
    for dt in ["<i1", "<i2", "<i4", "<i8", ">i2", ">i4", ">i8"]:
        add("signed_%s%s.npy" % (dt[1:], "_be" if dt[0] == ">" else ""), "signed", dt, shape)
    for dt in ["<u1", "<u2", "<u4", "<u8", ">u2", ">u4", ">u8"]:
        add("unsigned_%s%s.npy" % (dt[1:], "_be" if dt[0] == ">" else ""), "unsigned", dt, shape)
    add("bool.npy", "bool", "?", shape)
    add("float_f8_fortran.npy", "float", "<f8", shape, fortran=True)
    add("signed_i4_fortran_be.npy", "signed", ">i4", (3, 5), fortran=True)
    add("bool_fortran.npy", "bool", "?", (4, 3), fortran=True)
    add("float_f4_v2.npy", "float", "<f4", (5, 2), version=(2, 0))
    add("float_f4_v3.npy", "float", "<f4", (5, 2), version=(3, 0))
    add("scalar.npy", "float", "<f8", ())
    add("vector.npy", "signed", "<i8", (9,))
    add("empty.npy", "float", "<f4", (0, 3))
    add("many_dims.npy", "float", "<f4", (1, 2, 1, 3, 1, 2))

    x = values("float", (4, 3)).astype("<f4")
    y = values("signed", (4,)).astype("<i8")
    m = values("unsigned", (2, 2)).astype(">u2")
    np.savez(os.path.join(d, "stored.npz"), x=x, y=y, m=m)
    np.savez_compressed(os.path.join(d, "compressed.npz"), x=x, y=y, m=m)
    big = np.array([2**62 + 1, -(2**62) - 3, 5], dtype="<i8")
    np.save(os.path.join(d, "big_ints.npy"), big)
    np.save(os.path.join(d, "too_big.npy"), np.array([1, 2**63 + 5], dtype="<u8"))
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def check(d):
    def expect(a, dtype, want):
        if a.dtype != np.dtype(dtype):
            raise SystemExit("dtype %s, want %s" % (a.dtype, dtype))
        if a.shape != want.shape:
            raise SystemExit("shape %s, want %s" % (a.shape, want.shape))
        if not np.array_equal(a, want):
            raise SystemExit("values %r, want %r" % (a, want))

    f = values("float", (2, 3, 4)).astype("<f4")
    expect(np.load(os.path.join(d, "go_f4.npy"), allow_pickle=False), "<f4", f)
    expect(np.load(os.path.join(d, "go_scalar.npy"), allow_pickle=False), "<f4", np.array(2.5, "<f4"))
    expect(np.load(os.path.join(d, "go_empty.npy"), allow_pickle=False), "<f4", np.zeros((0, 3), "<f4"))
    expect(np.load(os.path.join(d, "go_vector.npy"), allow_pickle=False), "<f4", values("float", (7,)).astype("<f4"))
    expect(np.load(os.path.join(d, "go_ints.npy"), allow_pickle=False), "<i8",
           np.array([[2**53 - 1, -5, 0], [7, 8, 9]], "<i8"))
    for name in ["go.npz", "go_compressed.npz"]:
        with np.load(os.path.join(d, name), allow_pickle=False) as z:
            if sorted(z.files) != ["labels", "x"]:
                raise SystemExit("%s holds %s" % (name, z.files))
            expect(z["x"], "<f4", values("float", (4, 3)).astype("<f4"))
            expect(z["labels"], "<i8", np.array([3, 0, 2, 1], "<i8"))
    with open(os.path.join(d, "go_f4.npy"), "rb") as fh:
        head = fh.read(10)
        hlen = head[8] | head[9] << 8
        if (10 + hlen) % 64 != 0:
            raise SystemExit("data of go_f4.npy starts at byte %d, not a multiple of 64" % (10 + hlen))
    print("ok")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
