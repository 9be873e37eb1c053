#!/usr/bin/python3
"""End-to-end checks of `kktflow sweep` on its DIR/index.h5 (docs/file-format.md).

    check_sweep.py index DIR CASES            the index of a finished sweep: CASES rows, all done,
                                              verdicts and figures filled in, external links that open
    check_sweep.py same SERIAL_DIR OTHER_DIR  two sweeps of one sweep file give the same index
                                              (parameters, states, statuses, figures but wall time, verdicts)
    check_sweep.py claims DIR NAME,...        the index holds verdicts of exactly these claims
    check_sweep.py resume EXE SWEEP DIR       SIGKILL a sweep (and its runs) once two cases are done,
                                              re-run it: every case ends done, and the cases done
                                              before the kill are not computed again
    check_sweep.py continuation DIR           the shifted_triple continuation (data/sweeps/
                                              svm_support_change.toml): one change, located at the
                                              closed-form shift = 1, warm starts chained, margins on
                                              the closed-form curve

Prints "ok: ..." and exits 0 when the check passes, prints what differs and exits 1 otherwise.
"""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import xarray as xr

# Ours: how long the resume check waits for the first sweep to finish two cases.
FIRST_CASES_TIMEOUT_S = 300
# Ours: the cases done before the kill (the rest must still be to do).
DONE_BEFORE_KILL = 2


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def strings(dataset):
    return [text(v) for v in dataset[()]]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check_index(directory, cases):
    path = os.path.join(directory, "index.h5")
    with h5py.File(path, "r") as f:
        if text(f.attrs["format"]) != "kktflow-sweep":
            fail(f"{path}: format {f.attrs['format']!r}")
        if f["case"].shape[0] != cases:
            fail(f"{path}: {f['case'].shape[0]} rows, expected {cases}")
        states = strings(f["cases/state"])
        if set(states) != {"done"}:
            fail(f"{path}: states {states}")
        if not np.all(np.isfinite(f["final/normalized_margin"][()])):
            fail(f"{path}: normalized margins {f['final/normalized_margin'][()]}")
        claims = list(f["verify"].keys())
        if not claims or any(np.any(f["verify"][c]["passed"][()] < 0) for c in claims):
            fail(f"{path}: verdicts missing for some case: {claims}")
        for case, name in enumerate(strings(f["cases/file"])):
            link = f["runs"][os.path.splitext(os.path.basename(name))[0]]
            if text(link.attrs["format"]) != "kktflow-run" or text(link.attrs["status"]) != strings(f["cases/status"])[case]:
                fail(f"{path}: the external link of case {case} does not lead to its run file {name}")
        groups = [""]
        f.visititems(lambda name, obj: groups.append(name) if isinstance(obj, h5py.Group) else None)
    for group in groups:  # every group opens in xarray, its columns along "case" (or "change")
        try:
            with xr.open_dataset(path, group=group or None, engine="h5netcdf") as ds:
                ds.load()
                if group in ("cases", "params", "final") and any(v.dims != ("case",) for v in ds.data_vars.values()):
                    fail(f"{path}: /{group} has dims {[v.dims for v in ds.data_vars.values()]}, expected (case,)")
        except Exception as error:  # any failure to open is the finding
            fail(f"{path}: xarray cannot open group /{group}: {type(error).__name__}: {error}")
    print(f"ok: {path}: {cases} cases done, {len(claims)} claims each, every external link opens its run file, "
          f"{len(groups)} groups open in xarray")


def check_claims(directory, names):
    with h5py.File(os.path.join(directory, "index.h5"), "r") as f:
        found = sorted(f["verify"].keys())
    if found != sorted(names):
        fail(f"the index holds verdicts of {found}, expected {sorted(names)}")
    print(f"ok: the index holds verdicts of exactly {', '.join(found)}")


def index_contents(directory):
    """Everything in the index that must not depend on how the cases were scheduled."""
    with h5py.File(os.path.join(directory, "index.h5"), "r") as f:
        contents = {}
        for group in ("cases", "params", "final"):
            for name, dataset in f[group].items():
                if name in ("wall_s", "attempts", "message", "status_reason"):
                    continue  # timings, and reasons that quote the wall time
                contents[f"{group}/{name}"] = dataset[()]
        for claim in f["verify"]:
            for column in ("passed", "value", "tolerance"):
                contents[f"verify/{claim}/{column}"] = f["verify"][claim][column][()]
        return contents


# Figures may differ in their last bits between two processes: Eigen's vectorised sums start at the
# first aligned element, so their order follows where the heap put the data (seen: 2e-16 relative
# in verify's least-squares slope under mpirun). Verdicts, states and integers must be identical.
FIGURE_RTOL = 1e-12  # ours: a few thousand ulps, far below any tolerance a claim uses


def same_column(x, y):
    if x.dtype.kind != "f":
        return np.array_equal(x, y)
    return x.shape == y.shape and np.allclose(x, y, rtol=FIGURE_RTOL, atol=0.0, equal_nan=True)


def check_same(first, second):
    a, b = index_contents(first), index_contents(second)
    if a.keys() != b.keys():
        fail(f"the indexes have different columns: {sorted(a.keys() ^ b.keys())}")
    differences = [name for name in a if not same_column(a[name], b[name])]
    if differences:
        for name in differences:
            print(f"  {name}: {a[name]} vs {b[name]}")
        fail(f"{len(differences)} columns differ between {first} and {second}")
    verdicts = sum(1 for name in a if name.endswith("/passed"))
    print(f"ok: {first} and {second} agree in all {len(a)} columns ({verdicts} claims' verdicts exactly, every figure but wall time to {FIGURE_RTOL:g} relative)")


def done_cases(directory):
    """case → (run file, mtime in ns) of the cases the index calls done; {} before there is an index."""
    path = os.path.join(directory, "index.h5")
    if not os.path.exists(path):
        return {}
    with h5py.File(path, "r") as f:
        files, states = strings(f["cases/file"]), strings(f["cases/state"])
    return {case: (files[case], os.stat(os.path.join(directory, files[case])).st_mtime_ns)
            for case, state in enumerate(states) if state == "done"}


def check_resume(exe, sweep, directory):
    command = [exe, "sweep", sweep, "-o", directory, "-j", "1", "--quiet"]
    first = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + FIRST_CASES_TIMEOUT_S
    while len(done_cases(directory)) < DONE_BEFORE_KILL:
        if first.poll() is not None:
            fail(f"the first sweep ended (exit {first.returncode}) before it could be killed")
        if time.monotonic() > deadline:
            first.kill()
            fail(f"no {DONE_BEFORE_KILL} cases done within {FIRST_CASES_TIMEOUT_S} s")
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the sweep and the runs it started, as a batch system kills a job
    first.wait()
    before = done_cases(directory)
    with h5py.File(os.path.join(directory, "index.h5"), "r") as f:
        total = f["case"].shape[0]
    if len(before) >= total:
        fail("every case was done before the kill: nothing left to resume")
    second = subprocess.run(command, capture_output=True, text=True)
    if second.returncode != 0:
        fail(f"the re-run exited with {second.returncode}: {second.stdout}{second.stderr}")
    after = done_cases(directory)
    if len(after) != total:
        fail(f"after the re-run {len(after)} of {total} cases are done")
    recomputed = [case for case, (name, mtime) in before.items() if after[case][1] != mtime]
    if recomputed:
        fail(f"cases {recomputed} were done before the kill and were written again")
    with h5py.File(os.path.join(directory, "index.h5"), "r") as f:
        attempts = f["cases/attempts"][()]
    if any(attempts[case] != 0 for case in before) or any(attempts[case] == 0 for case in range(total) if case not in before):
        fail(f"attempts {attempts}: the re-run should have run exactly the cases not done before ({sorted(before)})")
    print(f"ok: killed with {len(before)} of {total} cases done; the re-run did the other {total - len(before)} "
          f"and left the {len(before)} done ones untouched")


# problems/dataset.hpp, shifted_triple: the SVM's support set is {x1, x2} for shift ≥ 1 and
# {x1, x2, x3} below, w* = (1, max(0, 1 − shift)), so the max margin is 1/‖w*‖.
CHANGE_AT = 1.0


def svm_margin(shift):
    return 1.0 / np.hypot(1.0, np.maximum(0.0, 1.0 - shift))


# Ours: above the change x3's normalized margin exceeds the least by (shift − 1) relative, so a
# support_tol-wide window counts x3 in up to shift = 1 + support_tol; the bracket may sit that far up.
# The margins converge like log(1/λ_i)/log t (Soudry et al. 2018, Thm 3): at log t = 1e4 and
# λ ≥ 1e-3 that is 7e-4, so 2e-3 relative is the tolerance on the curve.
MARGIN_RTOL = 2e-3


def check_continuation(directory):
    with h5py.File(os.path.join(directory, "index.h5"), "r") as f:
        if text(f.attrs["mode"]) != "continuation":
            fail(f"mode {f.attrs['mode']!r}")
        c = f["continuation"]
        locate_tol, support_tol = c.attrs["locate_tol"], c.attrs["support_tol"]
        value, warm = c["value"][()], c["warm_start"][()]
        support = strings(c["support"])
        changes = c["changes"]
        count = changes["change"].shape[0]
        if count != 1:
            fail(f"{count} changes located, expected exactly one (at shift = {CHANGE_AT})")
        before, after = changes["before_value"][0], changes["after_value"][0]
        low, high = min(before, after), max(before, after)
        if not high - low <= locate_tol:
            fail(f"bracket [{low}, {high}] is wider than locate_tol = {locate_tol}")
        if not (low <= CHANGE_AT + support_tol and high >= CHANGE_AT):
            fail(f"bracket [{low}, {high}] misses the change at {CHANGE_AT} (allowed up to {CHANGE_AT + support_tol})")
        if strings(changes["before_support"]) != ["0,1"] or strings(changes["after_support"]) != ["0,1,2"]:
            fail(f"supports {strings(changes['before_support'])} -> {strings(changes['after_support'])}, expected 0,1 -> 0,1,2")
        if warm[0] != -1 or any(w < 0 or w >= k for k, w in enumerate(warm) if k > 0):
            fail(f"warm starts {warm}: case 0 from θ(0), every later case from an earlier one")
        margins = f["final/normalized_margin"][()]
        error = np.abs(margins / svm_margin(value) - 1.0)
        if not np.all(error <= MARGIN_RTOL):
            worst = int(np.argmax(error))
            fail(f"case {worst} (shift {value[worst]}): margin {margins[worst]} vs the SVM's {svm_margin(value[worst])}")
        if sorted(value)[0] != 0.5 or sorted(value)[-1] != 1.5:
            fail(f"the branch ran over [{min(value)}, {max(value)}], expected [0.5, 1.5]")
    print(f"ok: {len(value)} cases, one change bracketed in [{low:.6g}, {high:.6g}] (width {high - low:.3g} ≤ {locate_tol:g}) "
          f"around shift = {CHANGE_AT}, supports 0,1 -> 0,1,2; margins within {error.max():.2e} of the SVM's")


def main(argv):
    if len(argv) == 4 and argv[1] == "index":
        check_index(argv[2], int(argv[3]))
    elif len(argv) == 4 and argv[1] == "claims":
        check_claims(argv[2], argv[3].split(","))
    elif len(argv) == 4 and argv[1] == "same":
        check_same(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "continuation":
        check_continuation(argv[2])
    elif len(argv) == 5 and argv[1] == "resume":
        check_resume(argv[2], argv[3], argv[4])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
