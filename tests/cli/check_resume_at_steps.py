#!/usr/bin/python3
"""A run stopped at step k by stop.max_steps and resumed without that limit ends bit for bit where
a run never stopped ends: resuming at chosen steps, where random kills rarely land (the first
steps, before the hand-off to region_ros2), and extending a finished run by stop.*. Also a run
killed while it finished (after the checkpoint taken at its end, before its status: emulated by
setting the finished reference's status back to "running"), which must stop again at once.

    /usr/bin/python3 tests/cli/check_resume_at_steps.py KKTFLOW CONFIG OUTDIR K1,K2,... [--set key=value]...

Compares as check_resume.py does; prints "N of M resumes at chosen steps bit-identical" and
exits 0 only when N = M. Needs Debian's python3-h5py.
"""
import os
import shutil
import sys

import h5py

from check_resume import command, contents, differences, run_to_end


def main():
    kktflow, config, outdir, steps = sys.argv[1:5]
    extra = [a for a in sys.argv[5:] if a != "--set"]
    steps = [int(k) for k in steps.split(",")]
    os.makedirs(outdir, exist_ok=True)
    reference_path = os.path.join(outdir, "at_steps_reference.h5")
    run_to_end(command(kktflow, config, reference_path, extra, resume=False))
    reference = contents(reference_path)
    identical = 0
    for k in steps:
        path = os.path.join(outdir, f"at_step_{k}.h5")
        run_to_end(command(kktflow, config, path, extra + [f"stop.max_steps={k}"], resume=False))
        run_to_end(command(kktflow, config, path, extra, resume=True))
        problems = differences(reference, contents(path))
        print(f"stopped at step {k}, resumed: " + ("bit-identical" if not problems else "DIFFERS: " + "; ".join(problems)))
        identical += not problems
    path = os.path.join(outdir, "at_the_end.h5")
    shutil.copyfile(reference_path, path)
    with h5py.File(path, "r+") as f:
        f.attrs["status"] = "running"
    run_to_end(command(kktflow, config, path, extra, resume=True))
    problems = differences(reference, contents(path))
    print("killed while finishing, resumed: " + ("bit-identical" if not problems else "DIFFERS: " + "; ".join(problems)))
    identical += not problems
    print(f"{identical} of {len(steps) + 1} resumes at chosen steps bit-identical")
    return 0 if identical == len(steps) + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
