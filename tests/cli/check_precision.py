#!/usr/bin/python3
"""flow.precision end to end: a float128 run and a double run agree to the double run's stated
error estimate.

    /usr/bin/python3 tests/cli/check_precision.py KKTFLOW CONFIG OUTDIR

- runs CONFIG in double to stop.kkt_eps = 1e-8 (past the hand-off to region_ros2, the stepper
  that flow.precision applies to);
- `verify --refine` states the double run's error: the angle between its final direction and
  that of a rerun at a tenth of the tolerances;
- the same run with flow.precision = "float128" to the same log t must end within that angle
  of the double run (and not bit-identical to it, or the precision did nothing);
- `verify --refine --refine-precision float128` reports precision "float128" and no verdict changes;
- `--refine-precision` with a bad value exits 2 naming it; without --refine it exits 2 too.
Exits 0, or prints the problems and exits 1.
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np


def run(kktflow, config, out, *overrides):
    args = [kktflow, "run", config, "-o", out, "--force", "--quiet"]
    for o in overrides:
        args += ["--set", o]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"kktflow run {' '.join(overrides)} exited {done.returncode}: {done.stderr}")


def final_direction(path):
    with h5py.File(path, "r") as f:
        theta = f["final/theta"][:]
        log_t = f["trajectory/log_t"][-1]
    return theta / np.linalg.norm(theta), log_t


def verify_json(kktflow, path, *extra):
    done = subprocess.run([kktflow, "verify", path, "--json", "--refine", *extra], capture_output=True, text=True)
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def main():
    kktflow, config, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    double_run = os.path.join(outdir, "precision_double.h5")
    quad_run = os.path.join(outdir, "precision_float128.h5")
    problems = []

    run(kktflow, config, double_run, "stop.kkt_eps=1e-8")
    u_double, log_t = final_direction(double_run)
    code, report, err = verify_json(kktflow, double_run)
    if "refine" not in report:
        sys.exit(f"verify --refine gave no refinement (exit {code}): {err}")
    stated = report["refine"]["final_angle"]

    run(kktflow, config, quad_run, "flow.precision=float128", f"stop.log_t_max={log_t!r}", "stop.kkt_eps=1e-300")
    u_quad, quad_log_t = final_direction(quad_run)
    angle = float(np.linalg.norm(u_double - u_quad))
    print(f"log t {log_t:.6g} (float128 run: {quad_log_t:.6g}); stated error of the double run "
          f"{stated:.3e} rad; ∠(double, float128) = {angle:.3e} rad")
    if not angle <= stated:
        problems.append(f"float128 and double runs differ by {angle:.3e} rad, more than the stated {stated:.3e}")
    if angle == 0.0:
        problems.append("the float128 run ended bit-identical to the double run: flow.precision had no effect")

    code, report, err = verify_json(kktflow, double_run, "--refine-precision", "float128")
    refined = report.get("refine", {})
    if refined.get("precision") != "float128":
        problems.append(f"--refine-precision float128: the JSON says precision {refined.get('precision')!r} ({err})")
    for c in refined.get("claims", []):
        if c["passed"] != c["refined_passed"]:
            problems.append(f"--refine-precision float128 changed the verdict of {c['name']}")

    for extra, needle in ((["--refine", "--refine-precision", "float64"], "float64"),
                          (["--refine-precision", "float128"], "needs --refine")):
        done = subprocess.run([kktflow, "verify", double_run, *extra], capture_output=True, text=True)
        if done.returncode != 2 or needle not in done.stderr:
            problems.append(f"verify {' '.join(extra)}: exit {done.returncode}, stderr {done.stderr.strip()!r}")

    for p in problems:
        print("FAIL:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
