"""open_run and plot_run on a run that is still writing its file (SWMR), and on the file it leaves
when killed: the rows flushed so far, no /final, status 'running'."""
import signal
import subprocess
import time

import h5py
import pytest

import kktflow
from conftest import CONFIGS

WAIT_S = 60


def flushed_rows(path):
    """Trajectory rows a SWMR reader sees now (0 while the file cannot be opened yet)."""
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return f["trajectory/log_t"].shape[0]
    except (OSError, KeyError):
        return 0


@pytest.fixture
def writing(exe, tmp_path):
    """A run of le2022_relu_trailing.toml writing tmp_path/live.h5, once it has rows; its ε_KKT target
    is out of reach, so it runs until the test ends it."""
    path = tmp_path / "live.h5"
    process = subprocess.Popen([exe, "run", CONFIGS / "le2022_relu_trailing.toml", "-o", path, "--quiet",
                                "--set", "stop.kkt_eps=1e-300"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + WAIT_S
    while flushed_rows(path) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    yield process, path
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_live_run_opens_and_plots(writing):
    process, path = writing
    assert process.poll() is None, "the run ended before the test could read it live"
    with kktflow.open_run(path) as run:
        assert run.attrs["status"] == "running"
        assert run.sizes["log_t"] >= 3 and "final_W1" not in run
        assert run["W1"].isel(snapshot=-1).shape == (5, 8)
        kktflow.plot_run(run, path)


def test_a_killed_run_keeps_its_flushed_rows(writing):
    process, path = writing
    before = flushed_rows(path)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with kktflow.open_run(path) as run:
        assert run.attrs["status"] == "running"
        assert run.sizes["log_t"] >= before
        assert kktflow.trajectory_frame(run).index.is_monotonic_increasing
