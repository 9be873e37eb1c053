"""kktflow.run and kktflow.verify drive the executable and hand back what it wrote."""
import json
import subprocess

import pytest

import kktflow
from conftest import CONFIGS


def test_run_with_a_dict_config_and_overrides(exe, tmp_path, monkeypatch):
    monkeypatch.setenv("KKTFLOW_EXE", exe)
    config = {"seed": 2, "data": {"kind": "gaussian", "n": 8, "d": 100},
              "model": {"kind": "leaky2_fixed_outer", "width": 6, "gamma": 0.5, "loss": "logistic"},
              "stop": {"kkt_eps": 1e-2}}
    with kktflow.run(config, tmp_path / "dict.h5", overrides={"model.gamma": 0.25, "data.d": 120}) as run:
        assert run.attrs["model_gamma"] == 0.25 and run["final_W"].shape == (6, 120)
        assert run.attrs["seed"] == 2 and run.attrs["status"] in ("converged", "log_t_max")


def test_run_refuses_to_overwrite_and_reports_the_exit_code(exe, tmp_path, monkeypatch):
    monkeypatch.setenv("KKTFLOW_EXE", exe)
    out = tmp_path / "twice.h5"
    kktflow.run(CONFIGS / "tiny.toml", out, overrides={"stop.kkt_eps": 1e-1}).close()
    with pytest.raises(kktflow.KktflowError) as error:
        kktflow.run(CONFIGS / "tiny.toml", out)
    assert error.value.code == 3 and "already exists" in error.value.message
    with pytest.raises(kktflow.KktflowError) as error:
        kktflow.run(CONFIGS / "tiny.toml", tmp_path / "bad.h5", overrides={"model.gamma": 1.5})
    assert error.value.code == 2 and "model.gamma" in error.value.message


def test_verify_returns_the_json_verdicts(exe, run_of, tmp_path, monkeypatch):
    monkeypatch.setenv("KKTFLOW_EXE", exe)
    path = tmp_path / "copy.h5"
    path.write_bytes(run_of("leaky2_fixed_outer").read_bytes())
    frame = kktflow.verify(path, claims=["frei2023.rank_le_2", "frei2023.kkt"])
    report = json.loads(subprocess.run([exe, "verify", path, "--json", "--claims", "frei2023.rank_le_2,frei2023.kkt"],
                                       capture_output=True, text=True).stdout)
    assert list(frame.index) == [c["name"] for c in report["claims"]]
    assert list(frame["passed"]) == [c["passed"] for c in report["claims"]]
    assert list(frame["value"]) == [c["value"] for c in report["claims"]]
