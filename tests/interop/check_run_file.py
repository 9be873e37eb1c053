#!/usr/bin/python3
"""Check that a kktflow run file (docs/file-format.md) opens in the Python tools users will point at it.

    /usr/bin/python3 tests/interop/check_run_file.py RUN.h5

- h5py: the root says format "kktflow-run" with a format_version this script knows, and every
  dataset in the file reads in full;
- no NaN or infinity in /trajectory, except NaN in sigma (padding where the first layer has
  fewer than k_top singular values) and +inf in kkt_eps and kkt_delta (the solver's value while
  the margin is not yet positive, so that theta / q_min^(1/L) is undefined);
- xarray with engine "h5netcdf" opens every group of the file (each dataset has its dimension
  scales), with the dimension names kktflow writes (point and singular for /trajectory).

Prints one summary line and exits 0, or prints the problems to stderr and exits 1.
Needs Debian's python3 with python3-h5py, python3-xarray and python3-h5netcdf.
"""
import sys

import h5py
import numpy as np
import xarray as xr

FORMAT = "kktflow-run"
FORMAT_VERSION = 1
# Trajectory datasets that may hold NaN or +inf, and why: see the module docstring.
NAN_ALLOWED = {"sigma"}
POSITIVE_INF_ALLOWED = {"kkt_eps", "kkt_delta"}
# Group -> {variable: dims} that xarray must see.
EXPECTED_DIMS = {
    "trajectory": {"log_t": ("point",), "step": ("point",), "sigma": ("point", "singular")},
    "events": {"new_sign": ("event",)},
    "snapshots": {"theta": ("snapshot", "param"), "point": ("snapshot",)},
    "data": {"X": ("sample", "feature"), "y": ("sample",)},
}
# … and, once the run has finished or been verified, these where present.
EXPECTED_FINAL_DIMS = {"theta": ("param",), "polished_theta": ("param",), "lambda": ("sample",)}


def text(value):
    """An attribute as str, whether stored variable-length (str) or fixed-length (bytes)."""
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def check_root(f, problems):
    fmt = text(f.attrs.get("format", ""))
    if fmt != FORMAT:
        problems.append(f"root attribute format is {fmt!r}, expected {FORMAT!r}")
    version = int(f.attrs.get("format_version", -1))
    if not 1 <= version <= FORMAT_VERSION:
        problems.append(f"format_version {version} is not in 1..{FORMAT_VERSION}")
    for name in ("kktflow_version", "git_commit", "created", "config", "seed", "status", "status_reason"):
        if name not in f.attrs:
            problems.append(f"root attribute {name!r} is missing")


def read_every_dataset(f, problems):
    """Reads every dataset in full; returns {path: array}."""
    arrays = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            try:
                arrays["/" + name] = obj[()]
            except Exception as error:  # any failure to read is the finding
                problems.append(f"/{name}: unreadable: {error}")

    f.visititems(visit)
    return arrays


def check_trajectory(arrays, problems):
    columns = {path.split("/")[-1]: a for path, a in arrays.items() if path.startswith("/trajectory/")}
    lengths = {name: a.shape[0] for name, a in columns.items() if name != "singular"}
    if len(set(lengths.values())) > 1:
        print(f"warning: trajectory columns differ in length {lengths}; readers use the shortest",
              file=sys.stderr)
    for name, a in columns.items():
        if a.dtype.kind != "f":
            continue
        bad = ~np.isfinite(a)
        if name in NAN_ALLOWED:
            bad &= ~np.isnan(a)
        if name in POSITIVE_INF_ALLOWED:
            bad &= ~np.isposinf(a)
        if bad.any():
            rows = np.unique(np.nonzero(bad)[0])[:5].tolist()
            problems.append(f"/trajectory/{name}: {int(bad.sum())} non-finite values (rows {rows}...)")
    return min(lengths.values(), default=0)


def every_group(path):
    """The path of every group in the file, the root as ""."""
    groups = [""]
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: groups.append(name) if isinstance(obj, h5py.Group) else None)
    return groups


def check_xarray(path, problems):
    for group in every_group(path):
        try:
            with xr.open_dataset(path, group=group or None, engine="h5netcdf") as ds:
                ds.load()
                if group == "final":
                    for variable, dims in EXPECTED_FINAL_DIMS.items():
                        if variable in ds.variables and ds[variable].dims != dims:
                            problems.append(f"xarray: /final/{variable} has dims {ds[variable].dims}, expected {dims}")
        except Exception as error:
            problems.append(f"xarray cannot open group /{group}: {type(error).__name__}: {error}")
    for group, expected in EXPECTED_DIMS.items():
        try:
            with xr.open_dataset(path, group=group, engine="h5netcdf") as ds:
                for variable, dims in expected.items():
                    got = ds[variable].dims if variable in ds.variables else None
                    if got != dims:
                        problems.append(f"xarray: /{group}/{variable} has dims {got}, expected {dims}")
                if group == "trajectory" and "point" not in ds.dims:
                    problems.append(f"xarray: /trajectory has dims {dict(ds.sizes)}, no 'point'")
        except Exception as error:
            problems.append(f"xarray cannot open group {group!r}: {type(error).__name__}: {error}")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} RUN.h5", file=sys.stderr)
        return 2
    path = argv[1]
    problems = []
    try:
        with h5py.File(path, "r") as f:
            check_root(f, problems)
            arrays = read_every_dataset(f, problems)
            points = check_trajectory(arrays, problems)
            status = text(f.attrs.get("status", "?"))
            n, d = arrays.get("/data/X", np.empty((0, 0))).shape
            events = len(arrays.get("/events/new_sign", []))
            snapshots = len(arrays.get("/snapshots/point", []))
            finished = "/final/theta" in arrays
    except OSError as error:
        print(f"{path}: h5py cannot open it: {error}", file=sys.stderr)
        return 1
    check_xarray(path, problems)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return 1
    print(f"{path}: {FORMAT} ok: status={status}, points={points}, events={events}, snapshots={snapshots}, "
          f"data={n}x{d}, final_theta={'yes' if finished else 'no'}, {len(arrays)} datasets read")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
