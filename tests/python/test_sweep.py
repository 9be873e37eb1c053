"""open_sweep against the case run files themselves and the sweep files' own values."""
import h5py
import numpy as np
import pandas as pd
import pytest

import kktflow


def verdicts_in_case(directory, relative, claim):
    """(passed, value) of `claim` in a case's own /verify, read with h5py."""
    with h5py.File(directory / relative, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f["verify/name"][()]]
        row = names.index(claim)
        return bool(f["verify/passed"][row]), float(f["verify/value"][row])


def test_grid_rows_carry_typed_parameters_and_verdicts(sweep_of):
    directory = sweep_of("grid")
    table = kktflow.open_sweep(directory)
    assert list(table.index) == [0, 1, 2, 3] and table.index.name == "case"
    assert table["data.d"].dtype == np.int64 and sorted(set(table["data.d"])) == [20, 200]
    assert table["data.mean_norm"].dtype == np.float64 and sorted(set(table["data.mean_norm"])) == [0.0, 2.0]
    assert table["seed"].dtype == np.int64 and set(table["seed"]) == {1}
    assert str(table["frei2023.rank_le_2.passed"].dtype) == "boolean"
    for case, row in table.iterrows():
        passed, value = verdicts_in_case(directory, row["file"], "frei2023.rank_le_2")
        assert row["frei2023.rank_le_2.passed"] == passed
        assert row["frei2023.rank_le_2.value"] == value
    assert table.attrs["mode"] == "grid" and table.attrs["keys"] == ["data.d", "data.mean_norm", "seed"]


def test_final_figures_are_each_case_s_last_row(sweep_of):
    directory = sweep_of("grid")
    table = kktflow.open_sweep(directory)
    for case, row in table.iterrows():
        with kktflow.open_case(directory, case) as run:
            assert row["normalized_margin"] == run["normalized_margin"].values[-1]
            assert row["steps"] == run["step"].values[-1]


def test_strings_are_str_and_string_parameters_unquoted(sweep_of):
    table = kktflow.open_sweep(sweep_of("list"))
    assert list(table["model.loss"]) == ["exp", "logistic"]  # the list file's values, without TOML quotes
    assert list(table["data.d"]) == [50, 400]
    for column in table.columns[table.dtypes == object]:
        assert all(isinstance(v, str) for v in table[column]), column
    assert all(state == "done" for state in table["state"])


def test_continuation_has_its_branch_columns_and_changes(sweep_of):
    directory = sweep_of("continuation")
    table = kktflow.open_sweep(directory)
    assert {"warm_start", "support", "pattern"} <= set(table.columns)
    changes = kktflow.open_sweep_changes(directory)
    assert len(changes) == 1
    low, high = sorted((changes["before_value"][0], changes["after_value"][0]))
    assert low <= 1.0 <= high  # the SVM's support changes at shift = 1 exactly
    assert changes["pattern_changed"].dtype == bool
    assert table.attrs["continuation_key"] == "data.shift"


def test_a_missing_case_is_a_key_error(sweep_of):
    with pytest.raises(KeyError):
        kktflow.open_case(sweep_of("list"), 7)


def test_not_evaluated_verdicts_are_missing_not_false(sweep_of, tmp_path):
    """passed = −1 in the index (a case that never evaluated the claim) reads as <NA>."""
    index = tmp_path / "index.h5"
    index.write_bytes((sweep_of("list") / "index.h5").read_bytes())
    with h5py.File(index, "r+") as f:
        f["verify/frei2023.rank_le_2/passed"][0] = -1
    table = kktflow.open_sweep(index)
    assert table["frei2023.rank_le_2.passed"].isna().tolist() == [True, False]
    assert pd.isna(table["frei2023.rank_le_2.passed"][0])
