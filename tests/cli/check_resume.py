#!/usr/bin/python3
"""A run killed with SIGKILL and continued with --resume ends bit for bit where an uninterrupted run ends.

    /usr/bin/python3 tests/cli/check_resume.py KKTFLOW CONFIG OUTDIR TRIALS KILLS [--signal NAME] [--set key=value]...

--signal TERM or INT stops each run with that signal instead of SIGKILL: the run must then exit
130 at its next step boundary, and --resume must continue it all the same.

Runs CONFIG once without interruption (the reference), then TRIALS times: starts the same run,
SIGKILLs it a random delay after its first checkpoint, and runs `kktflow run --resume` on the file, KILLS times in a
row (each resume but the last is killed too), then lets the last resume finish. Delays are drawn
from [0.2, 0.9] of the reference's wall time / KILLS, with a seed printed first; set
KKTFLOW_RESUME_SEED to repeat a failure. A trial in which a run finished before its kill tested
nothing and is run again with delays halved. Every run checkpoints every 0.02 s
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
MAX_ATTEMPTS = 6
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


def has_checkpoint(path):
    """Whether the file exists and holds a checkpoint; False also while it cannot be opened yet."""
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return int(f["checkpoint/sequence"][()].max()) > 0
    except (OSError, KeyError):
        return False


STOP_SIGNAL = signal.SIGKILL  # main() sets it from --signal


def run_and_kill(cmd, delay, path=None):
    """Starts cmd, sends STOP_SIGNAL `delay` s later, counted from the file's first checkpoint
    when `path` is given (a run killed before its first checkpoint cannot be resumed: it is
    started again); False when it finished before the signal."""
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while path and not has_checkpoint(path) and process.poll() is None:
        time.sleep(0.005)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(STOP_SIGNAL)
        process.wait()
        if STOP_SIGNAL == signal.SIGKILL or process.returncode == 130:
            return True
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {process.returncode} on {STOP_SIGNAL.name}, expected 130")
        return False
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {process.returncode}: {process.stderr.read().strip()}")
    return False


def kill_and_resume(kktflow, config, path, extra, delays):
    """Runs, SIGKILLs and resumes per `delays`, then resumes to the end; False when some run
    finished before its kill."""
    if os.path.exists(path):
        os.remove(path)
    if not run_and_kill(command(kktflow, config, path, extra, resume=False), delays[0], path):
        return False
    for delay in delays[1:]:
        if not run_and_kill(command(kktflow, config, path, extra, resume=True), delay):
            return False
    run_to_end(command(kktflow, config, path, extra, resume=True))
    return True


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
    global STOP_SIGNAL
    kktflow, config, outdir, trials, kills = sys.argv[1:6]
    os.makedirs(outdir, exist_ok=True)
    rest = sys.argv[6:]
    if rest[:1] == ["--signal"]:
        STOP_SIGNAL = signal.Signals["SIG" + rest[1]]
        rest = rest[2:]
    extra = [a for a in rest if a != "--set"]
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
        for _ in range(MAX_ATTEMPTS):
            if kill_and_resume(kktflow, config, path, extra, delays):
                break
            delays = [d / 2 for d in delays]
        else:
            print(f"trial {trial}: the run finished before its kill {MAX_ATTEMPTS} times")
            continue
        problems = differences(reference, contents(path))
        kills_text = ", ".join(f"{d:.3f}" for d in delays)
        verdict = "bit-identical" if not problems else "DIFFERS: " + "; ".join(problems)
        print(f"trial {trial}: {STOP_SIGNAL.name} after {kills_text} s, then --resume: {verdict}")
        identical += not problems
    print(f"{identical} of {trials} {STOP_SIGNAL.name}-and-resume trials bit-identical")
    return 0 if identical == trials else 1


if __name__ == "__main__":
    sys.exit(main())
