"""kktflow.run and kktflow.verify in-process (the compiled module _kktflow): the same run as the
CLI to the bit, Ctrl-C stops a run cleanly and resume continues it, progress reaches Python, and
verify gives the CLI's verdicts."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import kktflow
from conftest import CONFIGS, REPO, call
from kktflow import commands

TINY = CONFIGS / "tiny.toml"


@pytest.fixture(scope="module")
def module():
    found = commands.compiled()
    if found is None:
        assert not os.environ.get("KKTFLOW_EXPECT_MODULE"), "the module _kktflow was built but does not import"
        pytest.skip("the compiled module _kktflow is not built here (sanitizer build)")
    return found


def final_theta(path):
    with h5py.File(path, "r") as f:
        return f["final/theta"][()]


def test_a_run_from_python_is_the_cli_run_to_the_bit(module, exe, tmp_path):
    cli, here = tmp_path / "cli.h5", tmp_path / "python.h5"
    call(exe, "run", TINY, "-o", cli, "--quiet")
    kktflow.run(str(TINY), str(here), progress=False)
    assert np.array_equal(final_theta(cli), final_theta(here))  # every bit: the same code, the same flags


def test_a_dict_config_and_overrides_run_as_the_file_does(module, exe, tmp_path):
    import tomllib

    config = tomllib.loads(TINY.read_text())
    cli, here = tmp_path / "cli.h5", tmp_path / "dict.h5"
    call(exe, "run", TINY, "-o", cli, "--quiet", "--set", "stop.kkt_eps=0.01")
    kktflow.run(config, str(here), overrides={"stop.kkt_eps": 0.01}, progress=False)
    assert np.array_equal(final_theta(cli), final_theta(here))


def test_progress_rows_reach_a_python_callable(module, tmp_path):
    rows = []
    kktflow.run(str(TINY), str(tmp_path / "rows.h5"), progress=rows.append)
    with h5py.File(tmp_path / "rows.h5", "r") as f:
        recorded = f["trajectory/log_t"][()]
    assert [r["log_t"] for r in rows] == list(recorded)
    assert all(r["target"] == rows[0]["target"] > 0 for r in rows)


def test_a_bad_key_raises_with_exit_code_2(module, tmp_path):
    with pytest.raises(commands.KktflowError) as error:
        kktflow.run(str(TINY), str(tmp_path / "bad.h5"), overrides={"model.gamma": 2.0}, progress=False)
    assert error.value.code == 2 and "model.gamma" in str(error.value)


def test_verify_in_process_gives_the_cli_verdicts(module, exe, tmp_path):
    path = tmp_path / "v.h5"
    call(exe, "run", TINY, "-o", path, "--quiet")
    table = kktflow.verify(str(path))
    report = json.loads(call(exe, "verify", path, "--json", allowed=(0, 1)).stdout)
    assert list(table.index) == [c["name"] for c in report["claims"]]
    assert list(table["passed"]) == [c["passed"] for c in report["claims"]]


def test_ctrl_c_stops_a_run_that_resume_continues(module, tmp_path):
    out = tmp_path / "interrupted.h5"
    # A run of the demo's size with budgets that keep it going for minutes, interrupted after 1.5 s.
    script = textwrap.dedent(f"""
        import sys
        sys.path[:0] = {[str(REPO / "python")] + [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]!r}
        import kktflow
        try:
            kktflow.run({str(CONFIGS / "frei2023.toml")!r}, {str(out)!r}, progress=False,
                        overrides={{"stop.kkt_eps": 1e-300, "stop.log_t_max": 1e300, "flow.stepper": "bs3"}})
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    stdout, _ = child.communicate(timeout=60)
    assert "KeyboardInterrupt" in stdout
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted"
        steps = int(f["trajectory/step"][-1])
    # Resumed with a step budget 20 steps on (a stop.* key may change on resume): it goes on from
    # the checkpoint and stops at the budget.
    kktflow.run(str(CONFIGS / "frei2023.toml"), str(out), resume=True, progress=False,
                overrides={"stop.kkt_eps": 1e-300, "stop.log_t_max": 1e300, "flow.stepper": "bs3",
                           "stop.max_steps": steps + 20})
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "step_budget"
        assert int(f["trajectory/step"][-1]) == steps + 20
