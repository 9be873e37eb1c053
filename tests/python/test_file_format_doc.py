"""docs/file-format.md against real files, both ways: every group, dataset, link and attribute of
a run file or sweep index is documented (with its type where the doc gives one), every documented
one is in each file (unless marked *optional*, or in an optional group the file lacks), and every
optional one is in at least one of the files here, which between them hold every model kind,
synthetic and file data, a continuation's shifted data, a run resumed by another build and the
three sweep modes."""
import h5py
import pytest

import format_doc as fd
from conftest import KIND_RUNS, REPO, call, make_run

DOC = REPO / "docs" / "file-format.md"
# Data from a file, with separate labels, a class pair and a seeded selection: every /data
# attribute that file data can have.
FILE_DATA = (REPO / "tests" / "cli" / "data" / "loaders" / "fashion_slice.toml",
             ["data.select=seeded", "data.per_class=5"])


@pytest.fixture(scope="module")
def doc():
    return fd.parse(DOC.read_text(encoding="utf-8"))


def resumed_by_another_build(exe, out):
    """A run stopped early, its `build` attribute made another build's, then resumed and
    verified: the file holds resumed_builds."""
    make_run(exe, out, "tiny.toml", ["stop.max_steps=20"], verify=False)
    with h5py.File(out, "r+") as f:
        f.attrs["build"] = "another build"
    call(exe, "run", REPO / "data" / "configs" / "tiny.toml", "-o", out, "--resume", "--quiet")
    call(exe, "verify", out, allowed=(0, 1))
    return out


@pytest.fixture(scope="module")
def run_files(exe, run_of, sweep_of, tmp_path_factory):
    paths = [run_of(kind) for kind in KIND_RUNS]
    config, overrides = FILE_DATA
    paths.append(make_run(exe, tmp_path_factory.mktemp("file_data") / "file_data.h5", config, overrides))
    paths.append(sweep_of("continuation") / "cases" / "case_0000.h5")  # data.shift: /data@shift
    paths.append(resumed_by_another_build(exe, tmp_path_factory.mktemp("resumed") / "resumed.h5"))
    return [fd.observe(p) for p in paths]


@pytest.fixture(scope="module")
def sweep_indexes(sweep_of):
    return [fd.observe(sweep_of(mode) / "index.h5") for mode in ("grid", "list", "continuation")]


def test_the_files_are_of_the_formats_they_are_checked_against(run_files, sweep_indexes):
    assert {fd.format_of(o.path) for o in run_files} == {"kktflow-run"}
    assert {fd.format_of(o.path) for o in sweep_indexes} == {"kktflow-sweep"}


def test_run_files_match_the_doc(doc, run_files):
    problems = fd.compare(*doc["kktflow-run"], run_files)
    assert not problems, "\n".join(problems)


def test_sweep_indexes_match_the_doc(doc, sweep_indexes):
    problems = fd.compare(*doc["kktflow-sweep"], sweep_indexes)
    assert not problems, "\n".join(problems)


def without_line(text, start):
    lines = text.split("\n")
    kept = [line for line in lines if not line.startswith(start)]
    assert len(kept) == len(lines) - 1, f"no single line starts with {start!r}"
    return "\n".join(kept)


@pytest.mark.parametrize("row, reported", [
    ("| `wall_s` | f64 | s |", "/trajectory/wall_s (dataset) is not in docs/file-format.md"),
    ("| `layer_names` | `theta` |", "attribute layer_names of /snapshots/theta (dataset) is not in"),
    ("| `seed` | uint64 |", "attribute seed of / (group) is not in"),
])
def test_a_row_missing_from_the_doc_is_reported(doc, run_files, row, reported):
    sections, rows = fd.parse(without_line(DOC.read_text(encoding="utf-8"), row))["kktflow-run"]
    problems = fd.compare(sections, rows, run_files)
    assert any(reported in p for p in problems), problems


def test_a_documented_object_missing_from_the_files_is_reported(run_files, sweep_indexes):
    text = DOC.read_text(encoding="utf-8")
    extra = "| `tau` | f64 | 1 |"
    assert text.count(extra) == 1
    text = text.replace(extra, "| `absent_column` | f64 | 1 | none |\n" + extra)
    text = text.replace("| `attempts` | i64 |", "| `absent_row` | i64 | none |\n| `attempts` | i64 |")
    parsed = fd.parse(text)
    assert any("/trajectory/absent_column (dataset" in p and "documented but absent" in p
               for p in fd.compare(*parsed["kktflow-run"], run_files))
    assert any("/cases/absent_row (dataset" in p and "documented but absent" in p
               for p in fd.compare(*parsed["kktflow-sweep"], sweep_indexes))


def test_a_wrong_type_and_an_optional_row_no_file_holds_are_reported(run_files):
    text = DOC.read_text(encoding="utf-8").replace("| `seed` | uint64 |", "| `seed` | int64 |")
    text = text.replace("| `select` | string |", "| `never_written` | string | *optional*, never |\n| `select` | string |")
    problems = fd.compare(*fd.parse(text)["kktflow-run"], run_files)
    assert any("attribute seed of / is uint64, the doc says int64" in p for p in problems), problems
    assert any("attribute never_written" in p and "in none of the files" in p for p in problems), problems


def test_a_row_with_a_cell_too_few_is_refused():
    text = DOC.read_text(encoding="utf-8").replace("| `tau` | f64 | 1 |", "| `tau` | f64 |")
    with pytest.raises(fd.DocError, match="3 cells under 4 headers"):
        fd.parse(text)
