#!/usr/bin/python3
"""A run is read while it writes: an h5py SWMR reader and `kktflow info --follow` follow it.

    /usr/bin/python3 tests/cli/check_live_follow.py KKTFLOW CONFIG OUT.h5

Starts `kktflow run CONFIG -o OUT.h5` with an unreachable ε_KKT and a 3 s wall budget, then
- h5py opens the file with swmr=True while it is written and refreshes /trajectory (H5Drefresh)
  until the run exits: the rows it sees must only ever grow, with the rows already seen unchanged,
  and it must see at least two distinct row counts;
- `kktflow info --follow OUT.h5` must print rows 0, 1, 2, … without a gap and stop by itself
  with the final status once the run has ended.
Both must end at the row count of the finished file. Exits 0, or 1 with the problems on stderr.
Needs Debian's python3-h5py (HDF5 1.10 with SWMR).
"""
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np

WALL_S = 3
OPEN_TIMEOUT_S = 10
FOLLOW_TIMEOUT_S = 20
POLL_S = 0.05
ROW_LINE = re.compile(r"^\s*(\d+)\s+-?\d")


def open_live(path, run):
    """The file opened for SWMR reading as soon as the writer has started SWMR mode."""
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    while True:
        try:
            return h5py.File(path, "r", swmr=True)
        except (OSError, FileNotFoundError):
            if time.monotonic() > deadline or run.poll() is not None:
                raise
            time.sleep(POLL_S)


def follow_with_h5py(path, run, problems):
    """Refreshes /trajectory/log_t until the run exits; returns the row counts seen, in order."""
    counts = []
    seen = np.empty(0)
    with open_live(path, run) as f:
        log_t = f["trajectory/log_t"]
        while True:
            running = run.poll() is None
            log_t.refresh()
            rows = log_t[()]
            if not np.array_equal(rows[: len(seen)], seen):
                problems.append(f"h5py: rows already read changed between refreshes at {len(seen)} rows")
            if np.any(np.diff(rows) < 0):
                problems.append("h5py: log_t decreases")
            seen = rows
            if not counts or counts[-1] != len(rows):
                counts.append(len(rows))
            if not running:
                return counts
            time.sleep(POLL_S)


def check_follow_output(output, final_rows, problems):
    indices = [int(m.group(1)) for m in map(ROW_LINE.match, output.splitlines()) if m]
    if indices != list(range(final_rows)):
        problems.append(f"info --follow printed rows {indices[:3]}…{indices[-3:]} ({len(indices)} of them), "
                        f"expected 0…{final_rows - 1}")
    if "status      wall_budget" not in output:
        problems.append(f"info --follow did not end with the final status: …{output[-300:]!r}")


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} KKTFLOW CONFIG OUT.h5", file=sys.stderr)
        return 2
    kktflow, config, path = argv[1:]
    if os.path.exists(path):  # the readers must not find the file of an earlier run
        os.remove(path)
    # dopri5 alone: its late steps are stability-bound, so the run neither converges nor reaches
    # stop.log_t_max inside the budget, as region_ros2 would.
    run = subprocess.Popen([kktflow, "run", config, "-o", path, "--quiet", "--set", "stop.kkt_eps=1e-300",
                            "--set", "stop.log_t_max=1e300", "--set", 'flow.stepper="dopri5"',
                            "--set", f"stop.wall_s={WALL_S}"])
    follow = subprocess.Popen([kktflow, "info", "--follow", path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    problems = []
    counts = follow_with_h5py(path, run, problems)
    output, _ = follow.communicate(timeout=FOLLOW_TIMEOUT_S)
    if run.returncode != 0:
        problems.append(f"kktflow run exited {run.returncode}")
    if follow.returncode != 0:
        problems.append(f"kktflow info --follow exited {follow.returncode}: {output[-300:]!r}")
    with h5py.File(path, "r") as f:  # no swmr: the writer has left SWMR mode and closed the file
        final_rows = len(f["trajectory/point"])
    if len(counts) < 2:
        problems.append(f"h5py saw only the row counts {counts} while the run wrote")
    if counts[-1:] != [final_rows]:
        problems.append(f"h5py ended at {counts[-1:]} rows, the finished file holds {final_rows}")
    check_follow_output(output, final_rows, problems)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    print(f"{path}: h5py saw {len(counts)} row counts ({counts[0]} … {counts[-1]}), info --follow printed "
          f"{output.count(chr(10)) - 2} rows; finished file holds {final_rows}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
