#!/usr/bin/python3
"""The rows a run flushed before its disk filled up are kept, and the resumed run ends as an
uninterrupted one does.

    /usr/bin/python3 tests/cli/check_full_disk_rows.py FULL RESUMED REFERENCE

FULL is the file as the failed run left it, RESUMED the same file after `run --resume`,
REFERENCE a run never interrupted. Passes when every trajectory row of FULL (all columns but
wall_s) equals the reference's row, and RESUMED ends with the reference's final θ bit for bit.
Prints "N flushed rows kept; resumed run bit-identical"; exits 0 only then.
"""
import sys

import h5py
import numpy as np


def main():
    full_path, resumed_path, reference_path = sys.argv[1:4]
    with h5py.File(full_path, "r", swmr=True) as full, h5py.File(reference_path, "r") as reference:
        # Every column along the row dimension `point` (not the k_top index `singular`).
        columns = {name: column for name, column in full["trajectory"].items() if name != "singular"}
        rows = min(column.shape[0] for column in columns.values())
        if rows == 0:
            print("the full-disk file holds no trajectory row")
            return 1
        for name, column in columns.items():
            if name == "wall_s":
                continue
            if not np.array_equal(column[:rows], reference["trajectory"][name][:rows], equal_nan=True):
                print(f"trajectory/{name}: the flushed rows differ from the reference's")
                return 1
    with h5py.File(resumed_path, "r") as resumed, h5py.File(reference_path, "r") as reference:
        if resumed["final/theta"][()].tobytes() != reference["final/theta"][()].tobytes():
            print("the resumed run's final theta differs from the reference's")
            return 1
    print(f"{rows} flushed rows kept; resumed run bit-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
