#!/usr/bin/python3
"""A run stopped at any moment of its first 0.1 s leaves no file, or one that `kktflow info`
reads, so that the next run needs no --force.

    /usr/bin/python3 tests/cli/check_early_stop.py KKTFLOW CONFIG OUTDIR

For SIGKILL, SIGTERM and SIGINT and delays from 0 to 0.1 s, starts a run (stop rules lifted so
that it cannot end first), sends the signal and checks: SIGTERM and SIGINT end the run with exit
130 once kktflow's code runs; before that (the first milliseconds, while the shared libraries
initialise) a signal ends the process by its default action (SIGTERM: exit 143) and nothing may
have been written. Then the output must either be absent, with a new run without --force
succeeding, or be read by `kktflow info`; no `.tmp` or `.lock` file may block the next run.
Prints "N of N early stops leave a readable file or none"; exits 0 only then.
"""
import os
import signal
import subprocess
import sys
import time

DELAYS = [0, 0.005, 0.01, 0.02, 0.04, 0.07, 0.1]
LIFTED = ["--set", "stop.kkt_eps=1e-300", "--set", "stop.log_t_max=1e300", "--set", "stop.wall_s=30"]


def stop_early(kktflow, config, out, signal_number, delay):
    """Runs, signals after `delay` s, and returns the verdict text and whether it is a failure."""
    for leftover in (out, out + ".tmp", out + ".lock"):
        if os.path.exists(leftover):
            os.remove(leftover)
    process = subprocess.Popen([kktflow, "run", config, "-o", out, "--quiet"] + LIFTED, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal_number)
    code = process.wait()
    problems = []
    if signal_number == signal.SIGKILL and code != -signal.SIGKILL:
        problems.append(f"exit {code}, expected death by SIGKILL")
    if signal_number != signal.SIGKILL and code != 130:
        untouched = code == -signal_number and not os.path.exists(out) and not os.path.exists(out + ".tmp")
        if not untouched:
            problems.append(f"exit {code}, expected 130")
    if os.path.exists(out):
        readable = subprocess.run([kktflow, "info", out], capture_output=True).returncode == 0
        outcome = "info reads the file" if readable else "info CANNOT read the file"
        problems += [] if readable else ["unreadable file"]
    else:
        fresh = subprocess.run([kktflow, "run", config, "-o", out, "--quiet", "--set", "stop.max_steps=3"],
                               capture_output=True, text=True)
        outcome = "no file; a new run without --force succeeds" if fresh.returncode == 0 else \
            f"no file; a new run FAILS: {fresh.stderr.strip()}"
        problems += [] if fresh.returncode == 0 else ["the next run fails"]
    return f"exit {code}; {outcome}", problems


def main():
    kktflow, config, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    trials = failures = 0
    for signal_number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        for delay in DELAYS:
            out = os.path.join(outdir, f"early_{signal_number.name}_{delay}.h5")
            verdict, problems = stop_early(kktflow, config, out, signal_number, delay)
            trials += 1
            failures += bool(problems)
            print(f"{signal_number.name} after {delay} s: {verdict}" + (f" -- {'; '.join(problems)}" if problems else ""),
                  flush=True)
    print(f"{trials - failures} of {trials} early stops leave a readable file or none")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
