#!/usr/bin/python3
"""The memory estimate `run` refuses oversize configurations by is an upper bound: no run takes
more than it.

    /usr/bin/python3 tests/cli/check_memory_estimate.py KKTFLOW CONFIG WALL_S [GROUP] [-- GROUP]...

Each GROUP ([--config FILE] [--set key=value]...; groups separated by `--`) is one
configuration: CONFIG, or FILE, with those overrides. For each,
reads the estimate from the refusal `run` gives under limits.memory = "1 B" ("the run needs an
estimated 51.7 MB: …"), then runs it for WALL_S seconds (stop.wall_s, with stop.log_t_max
lifted; give stop.kkt_eps=1e-300 in a group to keep a run from converging) and takes its peak
resident size from wait4. Passes when every peak is at most its
estimate. Prints one line per configuration and "N of N peaks within the estimate"; exits 0 only
then.
"""
import os
import re
import subprocess
import sys

UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15}
LIFTED = ["--set", "stop.log_t_max=1e300"]


def estimate(kktflow, config, sets, out):
    done = subprocess.run([kktflow, "run", config, "-o", out, "--force", "--quiet", *sets, "--set",
                           'limits.memory="1 B"'], capture_output=True, text=True)
    found = re.search(r"needs an estimated ([0-9.e+]+) (\w+):", done.stderr)
    if done.returncode != 2 or not found:
        raise RuntimeError(f"no estimate in the refusal (exit {done.returncode}): {done.stderr.strip()}")
    return float(found.group(1)) * UNITS[found.group(2)]


def peak_bytes(kktflow, config, sets, out, wall_s):
    process = subprocess.Popen([kktflow, "run", config, "-o", out, "--force", "--quiet", *sets, *LIFTED, "--set",
                                f"stop.wall_s={wall_s}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: a budget stop (wall_budget)
        raise RuntimeError(f"the run exited {code}: {process.stderr.read().decode().strip()}")
    return usage.ru_maxrss * 1024.0


def main():
    kktflow, config, wall_s = sys.argv[1:4]
    groups, current = [], []
    for arg in sys.argv[4:]:
        if arg == "--":
            groups.append(current)
            current = []
        else:
            current.append(arg)
    groups.append(current)
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kktflow-memory-{os.getpid()}.h5")
    within = 0
    for sets in groups:
        config_here = config
        if sets[:1] == ["--config"]:
            config_here, sets = sets[1], sets[2:]
        bound = estimate(kktflow, config_here, sets, out)
        peak = peak_bytes(kktflow, config_here, sets, out, wall_s)
        ok = peak <= bound
        within += ok
        label = os.path.basename(config_here) + " " + " ".join(s for s in sets if s != "--set")
        print(f"{label}: peak {peak / 1e6:.1f} MB, estimate {bound / 1e6:.1f} MB" + ("" if ok else "  EXCEEDED"),
              flush=True)
    for leftover in (out, out + ".lock"):
        if os.path.exists(leftover):
            os.remove(leftover)
    print(f"{within} of {len(groups)} peaks within the estimate")
    return 0 if within == len(groups) else 1


if __name__ == "__main__":
    sys.exit(main())
