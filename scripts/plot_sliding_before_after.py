#!/usr/bin/env python3
"""Before/after figure of Filippov sliding in θ coordinates (docs/sliding_before_after.png).

Usage: plot_sliding_before_after.py OUT.png LABEL=BEFORE.h5,AFTER.h5 [LABEL=BEFORE.h5,AFTER.h5 ...]
Each pair of runs is drawn as log t (top) and ε_KKT (bottom) against wall time, the run without
sliding dashed. Reads /trajectory with h5py only.
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def trajectory(path):
    with h5py.File(path, "r") as f:
        t = f["trajectory"]
        return t["wall_s"][:], t["log_t"][:], t["kkt_eps"][:]


def main(out, pairs):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for spec in pairs:
        label, files = spec.split("=", 1)
        for path, style, when in zip(files.split(","), ("--", "-"), ("no sliding", "sliding")):
            wall, log_t, eps = trajectory(path)
            top.plot(wall, log_t, style, label=f"{label}, {when}")
            bottom.plot(wall, eps, style, label=f"{label}, {when}")
    top.set_yscale("symlog")
    top.set_ylabel("log t")
    bottom.set_yscale("log")
    bottom.set_ylabel("ε_KKT (∞ until the data are separated)")
    bottom.set_xlabel("wall time [s], Debug build")
    top.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
