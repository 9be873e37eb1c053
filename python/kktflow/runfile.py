"""`open_run`: a kktflow run file (docs/file-format.md) as one labelled xarray Dataset.

The Dataset is built from h5py reads, not from xarray's netCDF engine, so it opens every file
kktflow writes: live runs (SWMR), groups without dimension scales, θ stored flat. Its parts:

- the trajectory on the dimension `log_t` (log of gradient-flow time, a coordinate; the file's
  row number is the coordinate `point`): every /trajectory column, `sigma` (log_t × singular,
  singular = 1, 2, … so `sigma.sel(singular=3)` is σ₃), and the claim figures computed from
  them, `one_minus_beta` (1 − β) and `sigma3_over_sigma1`;
- the switch events on `event`: `event_log_t`, `event_point`, `event_neuron`, `event_sample`,
  `event_new_sign`;
- θ split per layer (layers.py): each layer at every snapshot under its own name (`W`, `a`,
  `W1`, …; dims `snapshot` + the layer's), read lazily, with coordinates `snapshot_log_t`
  (−inf for θ(0) at t = 0) and `snapshot_point`; the final θ as `final_<layer>`, the polished
  limit of `kktflow verify` as `polished_<layer>`, the KKT multipliers as `final_lambda`;
  per layer (dim `layer`): `layer_rows`, `layer_cols`, `final_layer_norm`;
- the data `X` (sample × input), `y`, and the fixed outer layer `a` (Frei net);
- the verify results on `claim` (coordinate: the claim names): `verify_passed`,
  `verify_certified` (bool), `verify_value`, `verify_tolerance`, `verify_detail`.

Root, /model and /data attributes become Dataset attributes (`model_kind`, `model_gamma`,
`data_source`, …); every variable carries `long_name` and `units`. `trajectory_frame(run)`
gives the trajectory as a pandas DataFrame indexed by log t, σ_k as columns sigma1, sigma2, ….
"""
import tomllib

import numpy as np
import xarray as xr

from . import layers as layer_views
from ._hdf5 import attributes, common_rows, described, open_file, require_format, text, texts

RUN_FORMAT = "kktflow-run"
TRAJECTORY_SCALES = ("point", "singular")
# The driver records in `dt` the step its controller proposes next (Driver::make_record, after the
# step), as docs/file-format.md says; the writer's long_name calls it the last accepted step.
DT_LONG_NAME = "step the controller proposes next, in the integration variable"
EVENT_COLUMNS = ("point", "log_t", "neuron", "sample", "new_sign")


def open_run(path):
    """The run file at `path` as an xarray Dataset (see the module docstring for its variables).

    The file stays open for the lazily read θ snapshots: close it with `run.close()` or open it
    in a `with` statement. Raises OSError when the file cannot be read, FormatError (a
    ValueError) when it is not a kktflow run file.
    """
    f = open_file(path)
    try:
        require_format(f, path, RUN_FORMAT)
        run = build_dataset(f)
    except BaseException:
        f.close()
        raise
    run.set_close(f.close)
    run.encoding["source"] = str(path)
    return run


def build_dataset(f):
    """Every part of an open run file, merged into one Dataset."""
    kind = text(f["model"].attrs.get("kind", "")) if "model" in f else ""
    # /final and /verify belong to an ended run: while a run writes (or after it was killed) they
    # are absent or a previous run's, and a SWMR reader may not even open them.
    ended = text(f.attrs.get("status", "running")) != "running"
    trajectory = trajectory_dataset(f["trajectory"])
    parts = [trajectory, events_dataset(f.get("events")), data_dataset(f.get("data")),
             model_dataset(f.get("model")), verify_dataset(f.get("verify") if ended else None)]
    if "snapshots" in f and "theta" in f["snapshots"]:
        layers = layer_views.read_layers(f["snapshots/theta"], kind)
        parts += [snapshots_dataset(f["snapshots"], layers, trajectory),
                  final_dataset(f.get("final") if ended else None, layers)]
    run = xr.merge([p for p in parts if p is not None], combine_attrs="drop_conflicts")
    run.attrs = run_attributes(f)
    return run


def run_attributes(f):
    """Root attributes, then /model's and /data's with the prefixes model_ and data_."""
    attrs = attributes(f)
    if "seed" in attrs:
        attrs["seed"] = int(attrs["seed"])
    for group, prefix in (("model", "model_"), ("data", "data_")):
        if group in f:
            attrs.update({prefix + k: v for k, v in attributes(f[group]).items()
                          if k not in ("long_name", "units")})
    return attrs


def trajectory_dataset(group):
    """/trajectory on the dimension log_t, plus 1 − β and σ₃/σ₁."""
    names = [n for n in group if n not in TRAJECTORY_SCALES]
    rows = common_rows(group, names)
    log_t = group["log_t"][:rows]
    variables = {}
    for name in names:
        values = group[name][:rows]
        dims = ("log_t",) if values.ndim == 1 else ("log_t", "singular")
        if name != "log_t":
            variables[name] = xr.Variable(dims, values, attrs=described(group[name]))
    coords = {"log_t": ("log_t", log_t, described(group["log_t"], "log of gradient-flow time t")),
              "point": ("log_t", np.arange(rows), {"long_name": "row of /trajectory", "units": "1"})}
    if "sigma" in variables:
        coords["singular"] = ("singular", np.arange(1, variables["sigma"].shape[1] + 1),
                              {"long_name": "k of σ_k, the k-th largest singular value", "units": "1"})
    if "dt" in variables:
        variables["dt"].attrs["long_name"] = DT_LONG_NAME
    ds = xr.Dataset(variables, coords=coords)
    return with_claim_figures(ds)


def with_claim_figures(ds):
    """Adds 1 − β and σ₃/σ₁, the figures the stop rules and the rank claim rest on."""
    if "alignment_beta" in ds:
        ds["one_minus_beta"] = (1.0 - ds["alignment_beta"]).assign_attrs(
            long_name="1 − β, β = cos∠(θ, −∇L)", units="1")
    if "sigma" in ds and ds.sizes.get("singular", 0) >= 3:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = ds["sigma"].sel(singular=3) / ds["sigma"].sel(singular=1)
        ds["sigma3_over_sigma1"] = ratio.reset_coords(drop=True).assign_attrs(
            long_name="σ₃/σ₁ of the first layer", units="1")
    return ds


def events_dataset(group):
    """/events on the dimension event, each column prefixed event_."""
    if group is None:
        return None
    rows = common_rows(group, EVENT_COLUMNS)
    return xr.Dataset({f"event_{name}": xr.Variable(("event",), group[name][:rows], attrs=described(group[name]))
                       for name in EVENT_COLUMNS if name in group})


def snapshot_log_t(points, trajectory):
    """log t of each snapshot from its /trajectory row: −inf for θ(0) (t = 0), NaN for a row not
    (yet) in the trajectory."""
    log_t = trajectory["log_t"].values
    out = np.full(points.shape, np.nan)
    out[points < 0] = -np.inf
    inside = (points >= 0) & (points < log_t.size)
    out[inside] = log_t[points[inside]]
    return out


def snapshots_dataset(group, layers, trajectory):
    """Each layer of θ at every snapshot (read lazily), with the snapshots' log t and rows."""
    rows = common_rows(group, ("point", "theta"))
    points = group["point"][:rows]
    ds = xr.Dataset(layer_views.snapshot_variables(group["theta"], layers, rows))
    return ds.assign_coords(
        snapshot_point=("snapshot", points, {"long_name": "row of /trajectory (−1: θ(0) at t = 0)", "units": "1"}),
        snapshot_log_t=("snapshot", snapshot_log_t(points, trajectory),
                        {"long_name": "log t of the snapshot (−inf: t = 0)", "units": "1"}))


def final_dataset(group, layers):
    """The final θ and the polished limit per layer, the KKT multipliers, and per-layer shapes
    and norms on the dimension layer."""
    variables = {"layer_rows": ("layer", [l.rows for l in layers], {"long_name": "rows of the layer's matrix", "units": "1"}),
                 "layer_cols": ("layer", [l.cols for l in layers], {"long_name": "columns of the layer's matrix", "units": "1"})}
    ds = xr.Dataset(variables, coords={"layer": ("layer", [l.name for l in layers], {"long_name": "layer of θ"})})
    if group is None:
        return ds
    if "theta" in group:
        theta = group["theta"][()]
        ds = ds.assign(layer_views.flat_variables(theta, layers, "final", "θ at the end of the run"))
        ds["final_layer_norm"] = xr.Variable(("layer",), [np.linalg.norm(l.of(theta)) for l in layers],
                                             attrs={"long_name": "Frobenius norm of the layer at the end", "units": "1"})
    if "polished_theta" in group:
        ds = ds.assign(layer_views.flat_variables(group["polished_theta"][()], layers, "polished",
                                                  "the polished limit (kktflow verify)"))
    if "lambda" in group:
        ds["final_lambda"] = xr.Variable(("sample",), group["lambda"][()], attrs=described(
            group["lambda"], "KKT multipliers λ_i of the last record (or of the polished limit)"))
    return ds


def data_dataset(group):
    """/data/X (sample × input) and y (sample, or sample × output)."""
    if group is None or "X" not in group:
        return None
    y = group["y"][()]
    return xr.Dataset({
        "X": xr.Variable(("sample", "input"), group["X"][()], attrs=described(group["X"], "inputs")),
        "y": xr.Variable(("sample",) if y.ndim == 1 else ("sample", "output"), y, attrs=described(group["y"], "labels")),
    })


def model_dataset(group):
    """The fixed outer layer /model/a of the Frei net, on the hidden units."""
    if group is None or "a" not in group:
        return None
    return xr.Dataset({"a": xr.Variable(("unit",), group["a"][()], attrs=described(group["a"], "fixed outer layer"))})


def verify_dataset(group):
    """/verify on the dimension claim, whose coordinate is the claim names."""
    if group is None or "name" not in group:
        return None
    columns = ("name", "passed", "value", "tolerance", "certified", "detail")
    rows = common_rows(group, columns)
    names = texts(group["name"][:rows])

    def column(name, convert, long_name):
        return xr.Variable(("claim",), convert(group[name][:rows]), attrs=described(group[name], long_name))

    return xr.Dataset({
        "verify_passed": column("passed", lambda v: v.astype(bool), "the claim passed"),
        "verify_certified": column("certified", lambda v: v.astype(bool), "the value is a certified bound"),
        "verify_value": column("value", np.asarray, "the figure the verdict rests on"),
        "verify_tolerance": column("tolerance", np.asarray, "the bound the value is compared with"),
        "verify_detail": column("detail", lambda v: np.array(texts(v), dtype=object), "figures behind the verdict"),
    }, coords={"claim": ("claim", np.array(names, dtype=object), {"long_name": "claim name"})})


def run_config(run):
    """The run's resolved configuration (the root attribute `config`, TOML) as a dict."""
    return tomllib.loads(run.attrs.get("config", ""))


def trajectory_frame(run):
    """The trajectory as a pandas DataFrame indexed by log t: every variable on log_t, and σ_k as
    the columns sigma1, sigma2, … (one row per recorded point, whatever k_top is)."""
    names = [name for name, v in run.data_vars.items() if v.dims == ("log_t",)]
    frame = run[names].reset_coords(drop=False).to_dataframe()
    if "sigma" in run:
        for k in run["singular"].values:
            frame[f"sigma{k}"] = run["sigma"].sel(singular=k).values
    return frame
