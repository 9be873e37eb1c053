#!/usr/bin/python3
"""Damaged run files: every command reading one ends in bounded time with exit 3, naming the
broken object, and never crashes.

    /usr/bin/python3 tests/cli/check_damaged_files.py KKTFLOW CONFIG OUTDIR FAMILY

FAMILY chooses the corpus: `truncated` (cut at several lengths, down to 0 bytes), `flipped`
(64 random bit flips within the first 8 KiB, seeded, and one byte flipped inside the header of
objects every reader reads), `heap` (the length of a string in HDF5's global heap, which it does
not checksum, damaged so that HDF5 loops, corrupts memory or reads out of bounds), `deleted` (an object or attribute removed with h5py) or `nan`
(a NaN written into the current checkpoint's state, step size and stepper memory). The corpus
is made from a run of CONFIG, a finished one, so each case damages a file that was whole.

Each case is given, on a fresh copy, to `kktflow info`, `verify`, `plot` and `run --resume`
(with a changed stop rule, so that it reads the checkpoint), each under a 10 s timeout. A case
passes when every command exits 3 and says which object is broken (`object '/…'`). One case is
damage only to `run --resume`: a file without /checkpoint is one that a kktflow without
checkpoints wrote, which the other commands read. Prints one line per case and "FAMILY: N of N
damaged files exit 3 from every command (slowest: …)"; exits 0 only then.
Needs Debian's python3-h5py.
"""
import os
import random
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

TIMEOUT_S = 10
COMMANDS = {
    "info": lambda exe, path, config: [exe, "info", path],
    "verify": lambda exe, path, config: [exe, "verify", path],
    "plot": lambda exe, path, config: [exe, "plot", path, "-o", path + ".png"],
    "resume": lambda exe, path, config: [exe, "run", config, "-o", path, "--resume", "--quiet",
                                         "--set", "stop.kkt_eps=1e-5", "--set", "stop.wall_s=5"],
}


def truncated(base, outdir):
    size = os.path.getsize(base)
    for name, length in [("half", size // 2), ("nine_tenths", size * 9 // 10), ("last_byte", size - 1),
                         ("8k", 8192), ("4k", 4096), ("512", 512), ("empty", 0)]:
        path = os.path.join(outdir, f"truncated_{name}.h5")
        with open(base, "rb") as f:
            data = f.read(length)
        with open(path, "wb") as f:
            f.write(data)
        yield path


def flip(path, offsets, rng=None):
    with open(path, "r+b") as f:
        for offset in offsets:
            f.seek(offset)
            byte = f.read(1)[0]
            f.seek(offset)
            f.write(bytes([byte ^ (1 << rng.randrange(8) if rng else 0xFF)]))


def header_address(base, name):
    with h5py.File(base, "r") as f:
        return h5py.h5o.get_info(f[name].id).addr


def current_slot(f):
    sequence = f["checkpoint/sequence"][:]
    return "slot0" if sequence[0] >= sequence[1] else "slot1"


def flipped(base, outdir):
    for seed in range(8):
        path = os.path.join(outdir, f"flipped_head_{seed}.h5")
        shutil.copyfile(base, path)
        rng = random.Random(seed)
        flip(path, [rng.randrange(8192) for _ in range(64)], rng)
        yield path
    with h5py.File(base, "r") as f:
        slot = current_slot(f)
    for name in ["/", "/trajectory", "/trajectory/log_t", "/checkpoint/sequence", f"/checkpoint/{slot}/state",
                 "/data/X", "/model", "/events/new_sign"]:
        path = os.path.join(outdir, "flipped_header_" + name.strip("/").replace("/", "_") + ".h5")
        shutil.copyfile(base, path)
        flip(path, [header_address(base, name) + 24])
        yield path


def status_heap(base):
    """Offset of the global heap collection ("GCOL") holding the status attribute's text: HDF5
    keeps variable-length strings there without a checksum, and trusts their lengths."""
    with open(base, "rb") as f:
        data = f.read()
    return data.rfind(b"GCOL", 0, data.rfind(b"converged"))


def flipped_heap(base, outdir):
    """The first heap object's length (bytes 24-31 of the collection) damaged three ways, which
    made HDF5 loop without end, corrupt the C heap (abort) and read out of bounds (SIGSEGV)."""
    heap = status_heap(base)
    for name, offset, mask in [("loop", 24, 0xFF), ("abort", 25, 0x80), ("segfault", 26, 0xFF)]:
        path = os.path.join(outdir, f"flipped_global_heap_{name}.h5")
        shutil.copyfile(base, path)
        with open(path, "r+b") as f:
            f.seek(heap + offset)
            byte = f.read(1)[0]
            f.seek(heap + offset)
            f.write(bytes([byte ^ mask]))
        yield path


def deleted(base, outdir):
    with h5py.File(base, "r") as f:
        slot = current_slot(f)
    for name in ["trajectory/log_t", "checkpoint", f"checkpoint/{slot}", f"checkpoint/{slot}/state", "data",
                 "model", "events", "@format", "@status", "@config"]:
        path = os.path.join(outdir, "deleted_" + name.replace("/", "_").replace("@", "attr_") + ".h5")
        shutil.copyfile(base, path)
        with h5py.File(path, "r+") as f:
            if name.startswith("@"):
                del f.attrs[name[1:]]
            else:
                del f[name]
        yield path


def nan(base, outdir):
    for what, index in [("state", 0), ("scalars", 2), ("stepper_memory", 0), ("dxdt", 3)]:
        path = os.path.join(outdir, f"nan_{what}.h5")
        shutil.copyfile(base, path)
        with h5py.File(path, "r+") as f:
            dataset = f[f"checkpoint/{current_slot(f)}/{what}"]
            if dataset.shape[0] <= index:
                continue
            dataset[index] = np.nan
        yield path


# Cases that only the commands listed damage: the others read the file as whole.
ONLY = {"deleted_checkpoint.h5": ["resume"]}


SLOWEST = [0.0, ""]  # the longest a command took on any case, and which


def run_command(kktflow, config, case, command):
    path = case + "." + command + ".h5"
    shutil.copyfile(case, path)
    start = time.monotonic()
    try:
        done = subprocess.run(COMMANDS[command](kktflow, path, config), capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"{command}: HANG (> {TIMEOUT_S} s)"
    seconds = time.monotonic() - start
    if seconds > SLOWEST[0]:
        SLOWEST[:] = [seconds, f"{command} on {os.path.basename(case)}"]
    message = (done.stderr.strip().splitlines() or [""])[-1]
    if done.returncode != 3:
        return f"{command}: exit {done.returncode} after {seconds:.1f} s: {message[:300]}"
    if "object '" not in done.stderr:
        return f"{command}: exit 3 without naming the object: {message[:300]}"
    return None


def main():
    kktflow, config, outdir, family = sys.argv[1:5]
    os.makedirs(outdir, exist_ok=True)
    base = os.path.join(outdir, "base.h5")
    subprocess.run([kktflow, "run", config, "-o", base, "--force", "--quiet"], check=True)
    families = {"truncated": truncated, "flipped": flipped, "heap": flipped_heap, "deleted": deleted, "nan": nan}
    cases = list(families[family](base, outdir))
    passed = 0
    for case in cases:
        commands = ONLY.get(os.path.basename(case), COMMANDS)
        failures = [f for f in (run_command(kktflow, config, case, c) for c in commands) if f]
        print(f"{os.path.basename(case)}: " + ("exit 3 from every command" if not failures else "; ".join(failures)),
              flush=True)
        passed += not failures
    print(f"{family}: {passed} of {len(cases)} damaged files exit 3 from every command "
          f"(slowest: {SLOWEST[1]}, {SLOWEST[0]:.1f} s)")
    return 0 if passed == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
