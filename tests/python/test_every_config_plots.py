"""`kktflow plot` on a short run of every config in data/configs and on every sweep in
data/sweeps (shrunk): each PNG is written, at the size the CLI promises, and is not blank.

Slow (minutes in Debug): CTest labels it `slow`, so `make test` skips it and `make test-all`
runs it. Runs are cut short by stop.wall_s; sweeps keep at most two values of each grid key and
four list cases, and continuations run each case to log t ≤ 2e3 only.
"""
import json
import pathlib
import tomllib

import pytest

from conftest import CONFIGS, EXIT_CLAIM_FAILED, REPO, call
from figure_checks import assert_png_not_blank

SWEEPS = REPO / "data" / "sweeps"
RUN_SIZE, SNAPSHOT_SIZE = (1200, 800), (700, 700)  # docs/cli.md, docs/python.md
WALL_S = 5  # per run and per sweep case: enough to leave t = 0 and record rows, short of convergence
# verify on a run of n = 1000 cut short by WALL_S needs more memory than a test machine has.
UNVERIFIED = {"fashion_mnist.toml"}
CONTINUATION_SET = {"stop.log_t_min": 1e3, "stop.log_t_max": 2e3}
GRID_VALUES, LIST_CASES = 2, 4
# A continuation's four panels of a few markers ink less than a run's six: 3.7 % on
# data/sweeps/lyu_fragile.toml in full, against 1.8 % for four empty panels with their labels.
SWEEP_INKED = 0.03


def data_files(config):
    """The files a config reads its data from (none for synthetic data)."""
    data = tomllib.loads(config.read_text(encoding="utf-8")).get("data", {})
    return [config.parent / data[key] for key in ("path", "labels") if data.get(key)]


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_plot_of_a_short_run_of_every_config(exe, tmp_path, config):
    missing = [str(f) for f in data_files(config) if not pathlib.Path(f).exists()]
    if missing:
        pytest.skip(f"{config.name} reads {', '.join(missing)}, which is absent: Fashion-MNIST comes with "
                    "Debian's dataset-fashion-mnist (`make fashion-mnist`)")
    run = tmp_path / f"{config.stem}.h5"
    call(exe, "run", config, "-o", run, "--quiet", "--force", "--set", f"stop.wall_s={WALL_S}")
    if config.name not in UNVERIFIED:
        call(exe, "verify", run, allowed=(0, EXIT_CLAIM_FAILED))
    for options, size, inked in (([], RUN_SIZE, 0.05), (["--snapshots"], SNAPSHOT_SIZE, 0.01)):
        png = tmp_path / f"{config.stem}{'_'.join([''] + [o.strip('-') for o in options])}.png"
        done = call(exe, "plot", run, "-o", png, *options)
        assert png.is_file(), done.stdout + done.stderr
        assert_png_not_blank(png, size, inked)


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(document):
    """TOML for a sweep file: top-level keys, then tables, then arrays of tables (quoted keys)."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in document.items() if not isinstance(v, (dict, list))
             or (isinstance(v, list) and not any(isinstance(e, dict) for e in v))]
    for key, table in ((k, v) for k, v in document.items() if isinstance(v, dict)):
        lines += ["", f"[{key}]"] + [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    for key, tables in ((k, v) for k, v in document.items() if isinstance(v, list) and any(isinstance(e, dict) for e in v)):
        for table in tables:
            lines += ["", f"[[{key}]]"] + [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def shrunk(sweep_file, out):
    """The sweep file made small (module docstring), its base made absolute; returns its path."""
    document = tomllib.loads(sweep_file.read_text(encoding="utf-8"))
    document["base"] = str((sweep_file.parent / document["base"]).resolve())
    document.setdefault("set", {})["stop.wall_s"] = WALL_S
    document.pop("budget_s", None)
    for key, values in document.get("grid", {}).items():
        document["grid"][key] = values[:1] + values[-1:] if len(values) > GRID_VALUES else values
    if len(document.get("case", [])) > LIST_CASES:
        document["case"] = document["case"][:LIST_CASES - 1] + document["case"][-1:]
    if "continuation" in document:
        document["set"].update(CONTINUATION_SET)
    path = out / sweep_file.name
    path.write_text(toml_text(document), encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == document
    return path


@pytest.mark.parametrize("sweep_file", sorted(SWEEPS.glob("*.toml")), ids=lambda p: p.name)
def test_plot_of_every_sweep(exe, tmp_path, sweep_file):
    sweep = shrunk(sweep_file, tmp_path)
    out = tmp_path / sweep_file.stem
    call(exe, "sweep", sweep, "-o", out, "--quiet", "-j", "2")
    png = tmp_path / f"{sweep_file.stem}.png"
    done = call(exe, "plot", out / "index.h5", "-o", png)
    assert png.is_file(), done.stdout + done.stderr
    assert_png_not_blank(png, RUN_SIZE, SWEEP_INKED)
