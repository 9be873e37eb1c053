#!/usr/bin/python3
"""Damaged sweep indexes: `info` and `plot` of one end in bounded time with exit 3, naming the
broken object, and `sweep` run again rebuilds it from its case files.

    /usr/bin/python3 tests/cli/check_damaged_sweep_index.py KKTFLOW SWEEP OUTDIR

Runs SWEEP into OUTDIR/base, then damages copies of its index.h5: cut at three lengths down to
0 bytes, a table column, a group and the format attribute deleted with h5py, and the length of
the sweep file's text in HDF5's global heap (which it does not checksum) flipped. For each copy,
`info DIR/index.h5` and `plot DIR` must exit 3 within 10 s and say `object '/…'`; then `sweep
SWEEP -o DIR` must exit 0 and leave an index that `info` reads. Prints one line per case and "N
of N damaged sweep indexes refused and rebuilt"; exits 0 only then. Needs Debian's python3-h5py.
"""
import os
import shutil
import subprocess
import sys
import time

import h5py

TIMEOUT_S = 10


def damaged(base, outdir):
    index = os.path.join(base, "index.h5")
    size = os.path.getsize(index)
    for name, length in [("half", size // 2), ("4k", 4096), ("empty", 0)]:
        yield f"truncated_{name}", lambda path, length=length: truncate(path, length)
    for name in ["cases/state", "cases/file", "final", "@format"]:
        yield "deleted_" + name.replace("/", "_").replace("@", "attr_"), lambda path, name=name: delete(path, name)
    yield "flipped_global_heap", flip_heap


def truncate(path, length):
    with open(path, "r+b") as f:
        f.truncate(length)


def delete(path, name):
    with h5py.File(path, "r+") as f:
        if name.startswith("@"):
            del f.attrs[name[1:]]
        else:
            del f[name]


def flip_heap(path):
    """Bytes 24-31 of the global heap collection holding the sweep file's text: its length."""
    with open(path, "rb") as f:
        data = f.read()
    heap = data.rfind(b"GCOL", 0, data.rfind(b"[[case]]"))
    with open(path, "r+b") as f:
        f.seek(heap + 24)
        byte = f.read(1)[0]
        f.seek(heap + 24)
        f.write(bytes([byte ^ 0xFF]))


def refused(command):
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"{command[1]}: HANG (> {TIMEOUT_S} s)"
    seconds = time.monotonic() - start
    message = (done.stderr.strip().splitlines() or [""])[-1][:300]
    if done.returncode != 3:
        return f"{command[1]}: exit {done.returncode} after {seconds:.1f} s: {message}"
    if "object '/" not in done.stderr:
        return f"{command[1]}: exit 3 without naming the object: {message}"
    return None


def main():
    kktflow, sweep, outdir = sys.argv[1:4]
    base = os.path.join(outdir, "base")
    shutil.rmtree(base, ignore_errors=True)
    subprocess.run([kktflow, "sweep", sweep, "-o", base, "--quiet"], check=True, capture_output=True)
    cases = list(damaged(base, outdir))
    passed = 0
    for name, damage in cases:
        directory = os.path.join(outdir, name)
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(base, directory)
        index = os.path.join(directory, "index.h5")
        damage(index)
        problems = [p for p in (refused([kktflow, "info", index]),
                                refused([kktflow, "plot", directory, "-o", os.path.join(directory, "x.png")])) if p]
        rebuilt = subprocess.run([kktflow, "sweep", sweep, "-o", directory, "--quiet"], capture_output=True, text=True,
                                 timeout=120)
        if rebuilt.returncode != 0:
            problems.append(f"sweep again: exit {rebuilt.returncode}: {rebuilt.stderr.strip()[:300]}")
        elif subprocess.run([kktflow, "info", index], capture_output=True).returncode != 0:
            problems.append("sweep again left an index that info cannot read")
        print(f"{name}: " + ("refused by info and plot; sweep rebuilt it" if not problems else "; ".join(problems)),
              flush=True)
        passed += not problems
    print(f"{passed} of {len(cases)} damaged sweep indexes refused and rebuilt")
    return 0 if passed == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
