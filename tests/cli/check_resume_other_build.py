#!/usr/bin/python3
"""A run file written by another build (e.g. a -march=native one) is continued by --resume, which
says that its rows from the checkpoint on are not bit-identical to what that build computes and
records it in the root attribute resumed_builds; a file of this build is continued silently.

    /usr/bin/python3 tests/cli/check_resume_other_build.py KKTFLOW CONFIG OUTDIR

Stops a run of CONFIG after 40 steps, resumes a copy whose `build` attribute names another build
and a copy left as it is, each to 80 steps. Prints "resume across builds: continued and
recorded"; exits 0 only then. Needs Debian's python3-h5py.
"""
import os
import shutil
import subprocess
import sys

import h5py

OTHER = "gcc 0.0.0, x86_64 AVX-512 AVX2 FMA (-march=native), OpenBLAS SkylakeX kernels"


def resume(kktflow, config, path):
    return subprocess.run([kktflow, "run", config, "-o", path, "--resume", "--quiet", "--set", "stop.max_steps=80"],
                          capture_output=True, text=True)


def main():
    kktflow, config, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    first = os.path.join(outdir, "first.h5")
    subprocess.run([kktflow, "run", config, "-o", first, "--force", "--quiet", "--set", "stop.max_steps=40"],
                   check=True)
    other, same = os.path.join(outdir, "other_build.h5"), os.path.join(outdir, "same_build.h5")
    shutil.copyfile(first, other)
    shutil.copyfile(first, same)
    with h5py.File(other, "r+") as f:
        f.attrs["build"] = OTHER
    problems = []
    done = resume(kktflow, config, other)
    if done.returncode not in (0, 1):
        problems.append(f"resuming the other build's file exited {done.returncode}: {done.stderr.strip()}")
    if f"was written by {OTHER}" not in done.stderr or "not bit-identical" not in done.stderr:
        problems.append(f"the resume did not say the builds differ: {done.stderr.strip()!r}")
    with h5py.File(other, "r") as f:
        recorded = [s.decode() if isinstance(s, bytes) else s for s in f.attrs.get("resumed_builds", [])]
        steps = int(f["trajectory/step"][-1])
    if len(recorded) != 1 or not recorded[0].startswith("from step 40: "):
        problems.append(f"resumed_builds = {recorded}, expected one entry 'from step 40: …'")
    if steps != 80:
        problems.append(f"the resumed run ended at step {steps}, expected 80")
    done = resume(kktflow, config, same)
    if "was written by" in done.stderr:
        problems.append(f"the same build's file was reported as another's: {done.stderr.strip()!r}")
    with h5py.File(same, "r") as f:
        if "resumed_builds" in f.attrs:
            problems.append("the same build's resume recorded resumed_builds")
    for problem in problems:
        print(problem)
    print("resume across builds: " + ("continued and recorded" if not problems else "FAILED"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
