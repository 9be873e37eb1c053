#!/usr/bin/python3
"""`kktflow plot` writes PNGs of the size the kktflow package promises, and says what to install
when Python or its modules are missing.

    /usr/bin/python3 tests/cli/check_plot.py KKTFLOW RUN.h5 OUTDIR PYTHON_DIR

Checks, each by exit code and output:
- the run figure and the --snapshots figure: PNGs whose header (IHDR) width × height equal
  kktflow.plot.style's FIGSIZE and SNAPSHOT_FIGSIZE times DPI;
- a Python without site packages (python3 -S: no h5py, numpy, matplotlib) and an interpreter
  that does not exist: exit 4 and the apt-get line.
Exits 0, or 1 with the problems on stderr.
"""
import os
import stat
import struct
import subprocess
import sys

INSTALL = "apt-get install python3-matplotlib python3-h5py"
EXIT_MISSING = 4


def png_size(path):
    """(width, height) from the IHDR chunk that starts every PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def kktflow_plot(kktflow, args, python=None):
    env = dict(os.environ)
    if python is not None:
        env["KKTFLOW_PYTHON"] = python
    done = subprocess.run([kktflow, "plot", *args], env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def check_png(kktflow, run, png, snapshots, expected, problems):
    if os.path.exists(png):
        os.remove(png)
    code, output = kktflow_plot(kktflow, [run, "-o", png] + (["--snapshots"] if snapshots else []))
    if code != 0:
        problems.append(f"plot {'--snapshots ' if snapshots else ''}exited {code}: {output}")
        return
    size = png_size(png)
    print(f"{png}: {size[0]} × {size[1]} px (promised {expected[0]} × {expected[1]})")
    if size != expected:
        problems.append(f"{png} is {size[0]} × {size[1]} px, kktflow.plot promises {expected[0]} × {expected[1]}")


def check_missing(kktflow, run, outdir, problems):
    bare = os.path.join(outdir, "python-without-site-packages")
    with open(bare, "w") as f:
        f.write(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    os.chmod(bare, os.stat(bare).st_mode | stat.S_IXUSR)
    for python, what in ((bare, "without h5py and matplotlib"), (os.path.join(outdir, "no-such-python"), "absent")):
        code, output = kktflow_plot(kktflow, [run, "-o", os.path.join(outdir, "never.png")], python)
        print(f"python {what}: exit {code}: {output.strip()}")
        if code != EXIT_MISSING or INSTALL not in output:
            problems.append(f"python {what}: exit {code}, expected {EXIT_MISSING} and '{INSTALL}': {output}")


def main(argv):
    if len(argv) != 5:
        print(f"usage: {argv[0]} KKTFLOW RUN.h5 OUTDIR PYTHON_DIR", file=sys.stderr)
        return 2
    kktflow, run, outdir, python_dir = argv[1:]
    sys.path.insert(0, python_dir)
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    from kktflow.plot import style  # the promise: FIGSIZE × DPI

    problems = []
    check_png(kktflow, run, os.path.join(outdir, "plot.png"), False, style.pixels(style.FIGSIZE), problems)
    check_png(kktflow, run, os.path.join(outdir, "plot_snapshots.png"), True, style.pixels(style.SNAPSHOT_FIGSIZE),
              problems)
    check_missing(kktflow, run, outdir, problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
