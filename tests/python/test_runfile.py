"""open_run against what h5py reads from the same file, and against the model's own forward pass:
a θ split into the wrong layers or shapes cannot reproduce the margins the C++ run recorded."""
import json
import subprocess
import tomllib

import h5py
import numpy as np
import pytest
import xarray as xr

import kktflow
from conftest import KINDS


def leaky(z, slope):
    return np.where(z > 0, z, slope * z)


def outputs(run):
    """f(x_i) for every sample from the final layers of `run`, written out per model kind."""
    X = run["X"].values
    kind = run.attrs["model_kind"]
    if kind == "leaky2_fixed_outer":
        return leaky(X @ run["final_W"].values.T, run.attrs["model_gamma"]) @ run["a"].values
    if kind == "two_layer_leaky":
        return leaky(X @ run["final_W"].values.T, run.attrs["model_alpha"]) @ run["final_a"].values
    if kind == "deep":  # every layer linear in this run (le2022_deep_linear.toml)
        h = X.T
        for name in run["layer"].values:
            h = np.atleast_2d(run[f"final_{name}"].values) @ h
        return h.ravel()
    if kind == "linear":
        return X @ run["final_w"].values
    raise ValueError(kind)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "relu2"])
def test_final_layers_reproduce_the_recorded_margin(run_of, kind):
    """min_i y_i f(x_i) / ‖θ‖^L from the split layers equals the run's last normalized margin."""
    with kktflow.open_run(run_of(kind)) as run:
        norm = np.sqrt(sum(float((run[f"final_{n}"] ** 2).sum()) for n in run["layer"].values))
        margin = np.min(run["y"].values * outputs(run)) / norm ** run.attrs["model_homogeneity"]
        assert margin == pytest.approx(run["normalized_margin"].values[-1], rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_layers_at_every_snapshot_concatenate_to_the_stored_theta(run_of, kind):
    """The lazily read layers, flattened in C order and concatenated, are /snapshots/theta's rows."""
    path = run_of(kind)
    with kktflow.open_run(path) as run, h5py.File(path, "r") as f:
        names = [str(n) for n in run["layer"].values]
        for k in range(run.sizes["snapshot"]):
            rebuilt = np.concatenate([run[n].isel(snapshot=k).values.ravel() for n in names])
            np.testing.assert_array_equal(rebuilt, f["snapshots/theta"][k])


def test_frei_W_is_units_by_inputs(run_of):
    path = run_of("leaky2_fixed_outer")
    with kktflow.open_run(path) as run, h5py.File(path, "r") as f:
        config = tomllib.loads(f.attrs["config"])
        assert run["final_W"].dims == ("unit", "input")
        assert run["final_W"].shape == (config["model"]["width"], config["data"]["d"])
        np.testing.assert_array_equal(run["final_W"].values.ravel(), f["final/theta"][()])
        assert run["W"].dims == ("snapshot", "unit", "input")


def test_deep_layers_name_their_axes(run_of):
    with kktflow.open_run(run_of("deep")) as run:
        assert run["final_W1"].dims == ("unit1", "input")
        assert run["final_W2"].dims == ("unit2", "unit1")
        assert run["final_W3"].dims == ("unit2",)  # the scalar output layer is a vector
        assert list(run["layer_rows"].values) == [5, 5, 1] and list(run["layer_cols"].values) == [8, 5, 5]


def test_relu2_output_layer_maps_units_to_outputs(run_of):
    with kktflow.open_run(run_of("relu2")) as run:
        assert run["final_V"].dims == ("output", "unit")
        assert run["final_V"].shape == (int(run.attrs["model_outputs"]), int(run.attrs["model_width"]))


def test_trajectory_is_indexed_by_log_t(run_of):
    path = run_of("leaky2_fixed_outer")
    with kktflow.open_run(path) as run, h5py.File(path, "r") as f:
        np.testing.assert_array_equal(run.indexes["log_t"].values, f["trajectory/log_t"][()])
        frame = kktflow.trajectory_frame(run)
        assert frame.index.name == "log_t"
        assert len(frame) == f["trajectory/log_t"].shape[0]  # one row per record, not one per σ_k
        k_top = f["trajectory/sigma"].shape[1]
        np.testing.assert_array_equal(frame[f"sigma{k_top}"].to_numpy(), f["trajectory/sigma"][:, k_top - 1])
        np.testing.assert_array_equal(frame["one_minus_beta"].to_numpy(), 1 - f["trajectory/alignment_beta"][()])
        assert run["sigma"].sel(singular=1).values[-1] == f["trajectory/sigma"][-1, 0]


def test_every_variable_has_a_long_name_and_units(run_of):
    with kktflow.open_run(run_of("leaky2_fixed_outer")) as run:
        for name, variable in run.variables.items():
            if name in run.dims and name not in run.coords:
                continue
            assert variable.attrs.get("long_name"), name
            if variable.dtype.kind in "fiu":  # numbers; names and details are text
                assert "units" in variable.attrs, name
        assert run["wall_s"].attrs["units"] == "s"


def test_events_snapshots_and_attributes(run_of):
    path = run_of("leaky2_fixed_outer")
    with kktflow.open_run(path) as run, h5py.File(path, "r") as f:
        np.testing.assert_array_equal(run["event_log_t"].values, f["events/log_t"][()])
        np.testing.assert_array_equal(run["event_new_sign"].values, f["events/new_sign"][()])
        points = f["snapshots/point"][()]
        assert run["snapshot_log_t"].values[0] == -np.inf and points[0] == -1
        np.testing.assert_array_equal(run["snapshot_log_t"].values[1:], f["trajectory/log_t"][()][points[1:]])
        assert isinstance(run.attrs["seed"], int) and run.attrs["seed"] == tomllib.loads(f.attrs["config"])["seed"]
        assert run.attrs["model_kind"] == "leaky2_fixed_outer" and isinstance(run.attrs["status"], str)


def test_verify_results_match_kktflow_verify_json(exe, run_of, tmp_path):
    path = tmp_path / "copy.h5"
    path.write_bytes(run_of("leaky2_fixed_outer").read_bytes())
    report = json.loads(subprocess.run([exe, "verify", path, "--json"], capture_output=True, text=True).stdout)
    with kktflow.open_run(path) as run:
        assert [str(c) for c in run["claim"].values] == [c["name"] for c in report["claims"]]
        assert run["verify_passed"].dtype == bool
        assert list(run["verify_passed"].values) == [c["passed"] for c in report["claims"]]
        assert all(isinstance(d, str) for d in run["verify_detail"].values)


def test_a_sweep_index_is_not_a_run_file(sweep_of):
    with pytest.raises(kktflow.FormatError, match="not a kktflow-run file"):
        kktflow.open_run(sweep_of("list") / "index.h5")


def test_a_text_file_is_an_io_error(tmp_path):
    path = tmp_path / "not.h5"
    path.write_text("not HDF5")
    with pytest.raises(OSError):
        kktflow.open_run(path)


def test_groups_plain_xarray_opens_agree(run_of):
    """Where xarray's own netCDF reader opens a group, it sees the values open_run gives."""
    path = run_of("leaky2_fixed_outer")
    plain = xr.open_dataset(path, group="trajectory", engine="h5netcdf")
    with kktflow.open_run(path) as run:
        np.testing.assert_array_equal(plain["normalized_margin"].values, run["normalized_margin"].values)
