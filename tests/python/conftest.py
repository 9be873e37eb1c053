"""Fixtures for the kktflow package's tests: run files and sweeps made in a temporary directory
by the built kktflow executable ($KKTFLOW_EXE, set by CTest) from the repository's own configs,
shortened with --set so that each takes well under a second in Release."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CONFIGS = REPO / "data" / "configs"
DATA = pathlib.Path(__file__).resolve().parent / "data"
if str(REPO / "python") not in sys.path:
    sys.path.insert(0, str(REPO / "python"))

# One run per model kind: config, --set overrides, and the claims to verify (None: all that apply).
KIND_RUNS = {
    "leaky2_fixed_outer": ("tiny.toml", [], None),
    "two_layer_leaky": ("lyu2021_symmetric.toml", ["stop.log_t_max=30"], None),
    "deep": ("le2022_deep_linear.toml", ["stop.log_t_max=50"], None),
    # The ensemble claims rerun 288 flows; the per-run ones are enough here.
    "relu2": ("timor2023.toml", [], "timor2023.loss_reached,timor2023.rank2_limit,timor2023.balancedness"),
    "linear": ("soudry2018_linear.toml", ["stop.log_t_max=50"], None),
}
# $KKTFLOW_TEST_KINDS (comma-separated) narrows the kinds a test file covers, so that CTest can run
# the figure tests one kind at a time, side by side.
KINDS = sorted(os.environ.get("KKTFLOW_TEST_KINDS", ",".join(KIND_RUNS)).split(","))
EXIT_CLAIM_FAILED = 1


def needs_kind(kind):
    """Skips a test about one model kind when $KKTFLOW_TEST_KINDS leaves that kind to another run."""
    if kind not in KINDS:
        pytest.skip(f"{kind} is covered where KKTFLOW_TEST_KINDS includes it")


@pytest.fixture(scope="session")
def exe():
    """The kktflow executable under test."""
    path = os.environ.get("KKTFLOW_EXE", "")
    assert path and os.access(path, os.X_OK), "set KKTFLOW_EXE to the built kktflow executable"
    return path


def call(exe, *arguments, allowed=(0,), cwd=None):
    done = subprocess.run([exe, *map(str, arguments)], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode in allowed, f"kktflow {' '.join(map(str, arguments))} exited {done.returncode}: {done.stderr}"
    return done


def make_run(exe, out, config, overrides=(), claims=None, verify=True):
    """`kktflow run` (and `verify`, whose failed claims are verdicts, not errors) into `out`."""
    arguments = ["run", CONFIGS / config, "-o", out, "--quiet", "--force"]
    for override in overrides:
        arguments += ["--set", override]
    call(exe, *arguments)
    if verify:
        call(exe, "verify", out, *(["--claims", claims] if claims else []), allowed=(0, EXIT_CLAIM_FAILED))
    return out


@pytest.fixture(scope="session")
def run_of(exe, tmp_path_factory):
    """run_of(kind) → the path of a verified run file of that model kind, made once per session."""
    made = {}
    folder = tmp_path_factory.mktemp("runs")

    def get(kind):
        if kind not in made:
            config, overrides, claims = KIND_RUNS[kind]
            made[kind] = make_run(exe, folder / f"{kind}.h5", config, overrides, claims)
        return made[kind]

    return get


@pytest.fixture(scope="session")
def sweep_of(exe, tmp_path_factory):
    """sweep_of(name) → the directory of the sweep tests/python/data/NAME.toml, run once per session."""
    made = {}
    folder = tmp_path_factory.mktemp("sweeps")

    def get(name):
        if name not in made:
            out = folder / name
            call(exe, "sweep", DATA / f"{name}.toml", "-o", out, "--quiet", "-j", "2")
            made[name] = out
        return made[name]

    return get
