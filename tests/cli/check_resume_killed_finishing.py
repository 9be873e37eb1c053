#!/usr/bin/python3
"""A run killed while it wrote /final, outside SWMR mode, is continued by --resume bit for bit.

    /usr/bin/python3 tests/cli/check_resume_killed_finishing.py KKTFLOW CONFIG OUTDIR

A run leaves SWMR mode to write /final and its status (run_store.hpp), so a SIGKILL in that
window leaves the file marked as open by a non-SWMR writer, which every reader, SWMR or not,
refuses. This places the kill there without a race: it runs CONFIG to the end, copies the file,
reopens the copy for writing with h5py, marks it running and exits without closing (os._exit),
as a killed writer would. Then `kktflow info` must name the mark, and `kktflow run --resume`
must finish the run with every dataset bit-identical to the uninterrupted one's (check_resume's
comparison). Prints "resume after a kill while finishing: bit-identical"; exits 0 only then.
Needs Debian's python3-h5py.
"""
import os
import shutil
import subprocess
import sys

import h5py

from check_resume import command, contents, differences, run_to_end


def leave_marked_as_killed_writer(path):
    """Opens `path` for writing in the newest format, as a finishing run does, and exits the
    child process without closing it."""
    child = os.fork()
    if child == 0:
        f = h5py.File(path, "r+", libver="latest")
        f.attrs["status"] = "running"
        f.flush()
        os._exit(0)
    os.waitpid(child, 0)


def main():
    kktflow, config, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    reference_path = os.path.join(outdir, "reference.h5")
    run_to_end(command(kktflow, config, reference_path, [], resume=False))
    path = os.path.join(outdir, "killed_finishing.h5")
    shutil.copyfile(reference_path, path)
    leave_marked_as_killed_writer(path)

    info = subprocess.run([kktflow, "info", path], capture_output=True, text=True)
    print(f"info on the marked file: exit {info.returncode}: {info.stderr.strip()}")
    if info.returncode == 0 or "--resume" not in info.stderr:
        print("info did not name the killed writer's mark")
        return 1
    run_to_end(command(kktflow, config, path, [], resume=True))
    problems = differences(contents(reference_path), contents(path))
    verdict = "bit-identical" if not problems else "DIFFERS: " + "; ".join(problems)
    print(f"resume after a kill while finishing: {verdict}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
