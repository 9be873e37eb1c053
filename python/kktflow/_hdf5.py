"""Small h5py helpers shared by the run-file and sweep-index readers.

Both readers open files read-only with SWMR read access, so that a run still being written (or
killed while it was) opens as kktflow's own commands open it, and turn HDF5's byte strings into
str, its 0/1 integers into booleans where the format says so, and its attributes into plain
Python values.
"""
import h5py
import numpy as np


class FormatError(ValueError):
    """The file is not the kktflow file the caller asked for, or lacks a part it needs."""


def open_file(path):
    """`path` opened read-only with SWMR read access (a live or killed run opens too), or without
    it when this process already holds the file open without it (HDF5 refuses to mix the two)."""
    try:
        return h5py.File(path, "r", swmr=True)
    except OSError as error:
        if "SWMR read access flag not the same" in str(error):
            return h5py.File(path, "r")
        raise OSError(f"{path}: cannot open as HDF5: {error}") from error


def text(value):
    """A str from an HDF5 string (bytes, str, or a numpy scalar of either)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def texts(values):
    """A list of str from an HDF5 string array."""
    return [text(v) for v in np.asarray(values).ravel()]


def plain(value):
    """An attribute as a plain Python value: str for strings, int/float for numeric scalars,
    lists for arrays (of str when the array holds strings)."""
    if isinstance(value, (bytes, str)):
        return text(value)
    array = np.asarray(value)
    if array.dtype.kind in "OSU":
        return texts(array) if array.ndim else text(array[()])
    if array.ndim:
        return array.tolist()
    return array.item()


def attributes(obj, skip=("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid")):
    """The attributes of an HDF5 object as a dict of plain values, without HDF5's own bookkeeping."""
    return {name: plain(value) for name, value in obj.attrs.items() if name not in skip}


def described(dataset, fallback_long_name=None, fallback_units="1"):
    """long_name and units of a dataset, as xarray attributes (fallbacks where the file has none)."""
    attrs = attributes(dataset)
    keep = {k: attrs[k] for k in ("long_name", "units") if k in attrs}
    if "long_name" not in keep and fallback_long_name:
        keep["long_name"] = fallback_long_name
    keep.setdefault("units", fallback_units)
    return keep


def common_rows(group, names):
    """Rows every one of `names` in `group` holds: a row a live writer has not finished is not a row."""
    present = [group[name] for name in names if name in group]
    return min((d.shape[0] for d in present), default=0)


#: The newest format_version this package reads, per format.
NEWEST_VERSION = {"kktflow-run": 1, "kktflow-sweep": 2}


def require_format(f, path, expected):
    """Refuses a file whose root `format` is not `expected` or whose format_version is newer than
    this package reads."""
    found = text(f.attrs["format"]) if "format" in f.attrs else None
    if found != expected:
        raise FormatError(f"{path}: not a {expected} file (its format attribute is {found!r})")
    version = int(f.attrs.get("format_version", 0))
    newest = NEWEST_VERSION.get(expected, 1)
    if version > newest:
        raise FormatError(f"{path}: format_version {version} is newer than this kktflow package reads ({newest})")
