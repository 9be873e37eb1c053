"""`open_sweep`: a sweep's index (DIR/index.h5, docs/file-format.md) as one pandas DataFrame.

One row per case, indexed by the case number, with the columns

- `label`, then one column per swept key (`data.d`, `model.gamma`, `seed`, …) holding the case's
  value as the sweep file wrote it: int where the file gave integers, float, str (unquoted) or
  bool;
- `state`, `status`, `status_reason`, `message`, `attempts`, `file`;
- the last trajectory row of each case: `log_t`, `log_loss`, `norm`, `normalized_margin`,
  `kkt_eps`, `one_minus_beta`, `stable_rank`, `sigma3_over_sigma1`, `switches`, `steps`, `wall_s`;
- continuation sweeps: `warm_start`, `support`, `pattern`;
- per claim: `<claim>.passed` (pandas boolean: True, False, or <NA> where the case did not
  evaluate it), `<claim>.value`, `<claim>.tolerance`.

Every string is a str. The sweep's own attributes (mode, keys, counts, the [continuation]
settings) are in `frame.attrs`. `open_sweep_changes` gives a continuation's located changes,
`open_case` a case's run file.
"""
import os
import tomllib

import numpy as np
import pandas as pd

from ._hdf5 import attributes, open_file, require_format, texts
from .runfile import open_run

SWEEP_FORMAT = "kktflow-sweep"
INDEX_NAME = "index.h5"
CASE_COLUMNS = ("label", "state", "status", "status_reason", "message", "attempts", "file")
CONTINUATION_COLUMNS = ("warm_start", "support", "pattern")
FINAL_FIGURES = ("log_t", "log_loss", "norm", "normalized_margin", "kkt_eps", "one_minus_beta", "stable_rank",
                 "sigma3_over_sigma1", "switches", "steps", "wall_s")
COUNTS = ("switches", "steps")


def _case_index(f):
    """The index's case numbers: /case (format version 2) or /cases/case (version 1)."""
    return f["case"][()] if "case" in f else f["cases/case"][()]


def index_path(where):
    """DIR/index.h5 for a sweep directory, or the index path itself."""
    return os.path.join(where, INDEX_NAME) if os.path.isdir(where) else where


def column_values(dataset):
    """A 1-D dataset as a list of str (string datasets) or a numpy array."""
    values = dataset[()]
    return texts(values) if values.dtype.kind in "OSU" else values


def open_sweep(where):
    """The sweep in directory `where` (or the index file `where`) as a DataFrame, one row per case
    (see the module docstring for its columns). Raises OSError when the index cannot be read,
    FormatError (a ValueError) when it is not a kktflow sweep index."""
    path = index_path(where)
    with open_file(path) as f:
        require_format(f, path, SWEEP_FORMAT)
        attrs = sweep_attributes(f)
        frame = pd.DataFrame(index=pd.Index(_case_index(f), name="case"))
        frame["label"] = column_values(f["cases/label"])
        for key, values in swept_values(f, attrs).items():
            frame[key] = values
        for name in CASE_COLUMNS[1:]:
            if name in f["cases"]:
                frame[name] = column_values(f["cases"][name])
        for name, values in final_figures(f.get("final", {})).items():
            frame[name if name not in frame else f"final.{name}"] = values
        if "continuation" in f:
            for name in CONTINUATION_COLUMNS:
                frame[name] = column_values(f["continuation"][name])
        for claim in f.get("verify", {}):
            frame = frame.join(verdict_columns(claim, f["verify"][claim], frame.index))
    frame.attrs = attrs
    return frame


def final_figures(group):
    """/final's columns in the documented order (then any others); counts as nullable integers."""
    names = [n for n in FINAL_FIGURES if n in group] + sorted(n for n in group if n not in FINAL_FIGURES)
    out = {}
    for name in names:
        values = group[name][()]
        if name in COUNTS:
            values = pd.array(np.where(np.isfinite(values), values, 0).astype(np.int64), dtype="Int64")
            values[~np.isfinite(group[name][()])] = pd.NA
        out[name] = values
    return out


def sweep_attributes(f):
    """Root attributes, plus the [continuation] settings as continuation_<name>."""
    attrs = attributes(f)
    if "continuation" in f:
        attrs.update({f"continuation_{k}": v for k, v in attributes(f["continuation"]).items()})
    return attrs


def verdict_columns(claim, group, index):
    """`<claim>.passed` (boolean with <NA>: not evaluated), `.value`, `.tolerance`."""
    passed = group["passed"][()]
    verdict = pd.array(passed == 1, dtype="boolean")
    verdict[passed < 0] = pd.NA
    return pd.DataFrame({f"{claim}.passed": verdict, f"{claim}.value": group["value"][()],
                         f"{claim}.tolerance": group["tolerance"][()]}, index=index)


def swept_values(f, attrs):
    """Each swept key's values in case order, typed as the sweep file wrote them."""
    spec = tomllib.loads(attrs.get("sweep", ""))
    out = {}
    for key in f.get("params", {}):
        values = column_values(f["params"][key])
        if isinstance(values, list):
            out[key] = [toml_value(v) for v in values]
        elif written_as_integers(spec, key) and np.all(np.isfinite(values)):
            out[key] = values.astype(np.int64)
        else:
            out[key] = values
    return out


def toml_value(literal):
    """The value a TOML literal stands for: `"x"` → 'x', `true` → True; other text unchanged."""
    try:
        return tomllib.loads(f"value = {literal}")["value"]
    except tomllib.TOMLDecodeError:
        return literal


def lookup(table, key):
    """table[key] for a quoted dotted key, else the nested table[a][b] of an unquoted one."""
    if key in table:
        return table[key]
    node = table
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def written_as_integers(spec, key):
    """Whether the sweep file gives `key` only integer values (grid arrays, list cases, [set])."""
    values = []
    grid = lookup(spec.get("grid", {}), key)
    if isinstance(grid, list):
        values += grid
    for case in spec.get("case", []):
        found = lookup(case, key)
        if found is not None:
            values.append(found)
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def open_sweep_changes(where):
    """A continuation's located changes of support set or pattern, one row per change (empty
    for other sweeps): before_case, after_case, before_value, after_value, before_support,
    after_support, pattern_changed (bool)."""
    path = index_path(where)
    with open_file(path) as f:
        require_format(f, path, SWEEP_FORMAT)
        group = f.get("continuation/changes")
        if group is None:
            return pd.DataFrame()
        frame = pd.DataFrame({name: column_values(group[name]) for name in group if name != "change"},
                             index=pd.Index(group["change"][()], name="change"))
    if "pattern_changed" in frame:
        frame["pattern_changed"] = frame["pattern_changed"].astype(bool)
    return frame


def open_case(where, case):
    """The run file of case number `case` of the sweep in `where`, opened with open_run."""
    path = index_path(where)
    with open_file(path) as f:
        require_format(f, path, SWEEP_FORMAT)
        files = column_values(f["cases/file"])
        cases = list(_case_index(f))
    if case not in cases:
        raise KeyError(f"{path}: no case {case} (cases {cases[0]}..{cases[-1]})")
    return open_run(os.path.join(os.path.dirname(path), files[cases.index(case)]))
