#!/usr/bin/python3
"""A run killed with SIGKILL and continued with --resume ends bit for bit where an uninterrupted run ends.

    /usr/bin/python3 tests/cli/check_resume.py KKTFLOW CONFIG OUTDIR TRIALS KILLS [--set key=value]...

Runs CONFIG once without interruption (the reference), then TRIALS times: starts the same run,
SIGKILLs it after a random delay, and runs `kktflow run --resume` on the file, KILLS times in a
row (each resume but the last is killed too), then lets the last resume finish. Delays are drawn
from [0.2, 0.9] of the reference's wall time / KILLS, with a seed printed first; set
KKTFLOW_RESUME_SEED to repeat a failure. Every run checkpoints every 0.02 s
(store.checkpoint_seconds), so kills land between, and sometimes inside, checkpoint writes.

A trial passes when /final/theta and /final/lambda are bit-identical to the reference's, and so
is every trajectory column but wall_s, every event and every snapshot, and the status. Prints
"N of TRIALS SIGKILL-and-resume trials bit-identical"; exits 0 only when N = TRIALS.
Needs Debian's python3-h5py.
"""
import os
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

CHECKPOINT_EVERY_S = "0.02"
DELAY_RANGE = (0.2, 0.9)
NOT_REPRODUCIBLE = {"wall_s"}  # wall-clock seconds: the only column a resumed run may change


def command(kktflow, config, out, extra, resume):
    cmd = [kktflow, "run", config, "-o", out, "--quiet", "--set", f"store.checkpoint_seconds={CHECKPOINT_EVERY_S}"]
    for assignment in extra:
        cmd += ["--set", assignment]
    return cmd + (["--resume"] if resume else ["--force"])


def run_to_end(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")


def run_and_kill(cmd, delay):
    """Starts cmd, SIGKILLs it after `delay` s; False when it had already finished."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {process.returncode}: {process.stderr.read().strip()}")
    return False


def contents(path):
    """Every dataset a resumed run must reproduce, by name, as raw bytes, and the status."""
    out = {}
    with h5py.File(path, "r") as f:
        out["status"] = f.attrs["status"]
        for group in ("trajectory", "events", "snapshots", "final"):
            for name, dataset in f[group].items():
                if name not in NOT_REPRODUCIBLE:
                    values = dataset[()]
                    out[f"{group}/{name}"] = (values.dtype.str, values.shape, values.tobytes())
    return out


def differences(reference, trial):
    problems = [f"{key} absent" for key in reference if key not in trial]
    problems += [f"{key} unexpected" for key in trial if key not in reference]
    problems += [f"{key} differs" for key in reference if key in trial and reference[key] != trial[key]]
    return problems


def main():
    kktflow, config, outdir, trials, kills = sys.argv[1:6]
    extra = [a for a in sys.argv[6:] if a != "--set"]
    trials, kills = int(trials), int(kills)
    seed = int(os.environ.get("KKTFLOW_RESUME_SEED", time.time_ns() % 2**31))
    print(f"seed {seed} (KKTFLOW_RESUME_SEED={seed} repeats these kills)")
    rng = random.Random(seed)

    reference_path = os.path.join(outdir, "resume_reference.h5")
    started = time.monotonic()
    run_to_end(command(kktflow, config, reference_path, extra, resume=False))
    reference_s = time.monotonic() - started
    reference = contents(reference_path)
    rows = len(reference["trajectory/step"][2]) // 8
    print(f"reference: {reference_s:.2f} s, {rows} trajectory rows, status {reference['status']}")

    identical = 0
    for trial in range(trials):
        path = os.path.join(outdir, f"resume_trial{trial}.h5")
        delays = [rng.uniform(*DELAY_RANGE) * reference_s / kills for _ in range(kills)]
        killed = run_and_kill(command(kktflow, config, path, extra, resume=False), delays[0])
        for delay in delays[1:]:
            killed = run_and_kill(command(kktflow, config, path, extra, resume=True), delay) and killed
        run_to_end(command(kktflow, config, path, extra, resume=True))
        problems = differences(reference, contents(path))
        kills_text = ", ".join(f"{d:.3f}" for d in delays)
        verdict = "bit-identical" if not problems else "DIFFERS: " + "; ".join(problems)
        note = "" if killed else " (a run finished before its kill)"
        print(f"trial {trial}: SIGKILL after {kills_text} s, then --resume: {verdict}{note}")
        identical += not problems
    print(f"{identical} of {trials} SIGKILL-and-resume trials bit-identical")
    return 0 if identical == trials else 1


if __name__ == "__main__":
    sys.exit(main())
