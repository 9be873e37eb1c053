#!/usr/bin/env python3
"""Writes the loader tests' small files with Python's standard library only (struct, gzip,
zipfile), independently of kktflow's readers: NPY and NPZ as NumPy lays them out, IDX as the
MNIST format does, CSV with and without a header, and the bad-data cases.

The Fashion-MNIST slice (fashion_slice-*.gz) is the first 60 training images and labels of
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence), cut from Debian's
dataset-fashion-mnist when that package is installed; it is kept in the repository so the tests
do not need the package.

Run from this directory: python3 make_fixtures.py
"""
import gzip
import os
import struct
import zipfile

X = [[1.0, 0.0, 0.5], [0.0, 2.0, -1.0], [3.0, 1.0, 0.0], [-1.0, -1.0, 2.0], [0.25, 4.0, 1.0], [2.0, -3.0, 0.5]]
Y = [5, 7, 5, 7, 7, 5]


def npy_bytes(values, shape, descr, fortran=False):
    """NPY format version 1.0: magic, version, header length (u16 LE), padded dict, data."""
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    code = {"<f8": "<d", ">f8": ">d", "<f4": "<f", ">f4": ">f", "<i8": "<q", "|u1": "<B", "<i4": "<i"}[descr]
    data = b"".join(struct.pack(code, v) for v in values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data


def flat(rows):
    return [v for row in rows for v in row]


def column_major(rows):
    return [rows[i][j] for j in range(len(rows[0])) for i in range(len(rows))]


def idx_bytes(type_code, fmt, shape, values):
    head = bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape)
    return head + b"".join(struct.pack(">" + fmt, v) for v in values)


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def write_npy_and_npz():
    write("small_X.npy", npy_bytes(flat(X), (6, 3), "<f8"))
    write("small_y.npy", npy_bytes(Y, (6,), "<i8"))
    # The same samples as big-endian float32 in Fortran order: the reader must reorder them.
    write("small_X_fortran.npy", npy_bytes(column_major(X), (6, 3), ">f4", fortran=True))
    for name, method in (("small.npz", zipfile.ZIP_STORED), ("small_compressed.npz", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(name, "w", compression=method) as z:
            # NumPy's savez writes its members with force_zip64=True; so do we.
            with z.open("X.npy", "w", force_zip64=True) as f:
                f.write(npy_bytes(flat(X), (6, 3), "<f8"))
            with z.open("y.npy", "w", force_zip64=True) as f:
                f.write(npy_bytes(Y, (6,), "<i8"))
    write("bad_shape_X.npy", npy_bytes(flat(X), (18,), "<f8"))


def write_idx():
    images = [int(v * 10) % 256 for v in flat(X)]
    write("small-images-idx3-ubyte", idx_bytes(0x08, "B", (6, 3, 1), images))
    write("small-labels-idx1-ubyte", idx_bytes(0x08, "B", (6,), Y))
    write("small-images-idx3-ubyte.gz", gzip.compress(idx_bytes(0x08, "B", (6, 3, 1), images), mtime=0))
    write("bad_shape-labels-idx1-ubyte", idx_bytes(0x08, "B", (5,), Y[:5]))


def write_csv():
    with open("small_header.csv", "w") as f:
        f.write("# animals, two features each\nspecies,weight,height\n")
        for i, row in enumerate(X):
            f.write("%s,%g,%g\n" % ("cat" if Y[i] == 5 else "dog", row[0], row[1]))
    with open("small_01.csv", "w") as f:
        for i, row in enumerate(X):
            f.write("%d,%s\n" % (1 if Y[i] == 7 else 0, ",".join("%g" % v for v in row)))
    with open("bad_nan.csv", "w") as f:
        f.write("1,0.5,1\n-1,nan,2\n1,3,4\n")
    with open("bad_inf.csv", "w") as f:
        f.write("1,0.5,1\n-1,inf,2\n")
    with open("bad_one_class.csv", "w") as f:
        f.write("1,0.5,1\n1,2,2\n1,3,4\n")
    with open("bad_duplicate.csv", "w") as f:
        f.write("1,0.5,1\n-1,2,2\n-1,0.5,1\n")
    with open("bad_zero.csv", "w") as f:
        f.write("1,0,0\n-1,1,2\n")
    with open("unseparable.csv", "w") as f:
        f.write("# x and 2x with opposite labels: a homogeneous net gives f(2x) = 2 f(x), so no run separates them\n")
        f.write("1,1,0\n-1,2,0\n1,0,1\n")
    with open("bad_shape.csv", "w") as f:
        f.write("1,0.5,1\n-1,2\n")


def write_fashion_slice(count=60):
    source = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(source):
        return
    for kind, header, item in (("images", 16, 784), ("labels", 8, 1)):
        suffix = "idx3" if kind == "images" else "idx1"
        with gzip.open("%s/train-%s-%s-ubyte.gz" % (source, kind, suffix), "rb") as f:
            data = f.read(header + count * item)
        data = data[:4] + struct.pack(">I", count) + data[8:]
        write("fashion_slice-%s-%s-ubyte.gz" % (kind, suffix), gzip.compress(data, mtime=0))


if __name__ == "__main__":
    write_npy_and_npz()
    write_idx()
    write_csv()
    write_fashion_slice()
