"""The README's Python snippet runs as written, on stand-ins for the files it names: a run of
tiny.toml as runs/frei2023.h5 and the tests' grid sweep as runs/frei_regime."""
import pathlib
import re
import shutil

import pytest

from conftest import REPO

HEADING = "## From Python"


def readme_snippet():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_snippet_runs_as_written(run_of, sweep_of, tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    shutil.copy(run_of("leaky2_fixed_outer"), tmp_path / "runs" / "frei2023.h5")
    shutil.copytree(sweep_of("grid"), tmp_path / "runs" / "frei_regime")
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(readme_snippet(), "README.md", "exec"), names)
    assert names["trajectory"].index.name == "log_t"
    assert names["W"].dims == ("unit", "input")
    assert {"data.d", "data.mean_norm", "frei2023.rank_le_2.passed"} <= set(names["results"].columns)
    assert pathlib.Path("frei2023.png").stat().st_size > 10_000
