"""`run` and `verify`: kktflow's own commands from Python.

Both call the `kktflow` executable and read back what it wrote, so a notebook can start a run
and look at it in two lines. They are thin on purpose: the same signatures can later call a
compiled module in-process, without changing any caller. The executable is, in this order:
$KKTFLOW_EXE; `kktflow` next to this package's installation (PREFIX/bin, when `cmake --install`
put both there); build/release or build/debug of the source tree this package sits in; `kktflow`
on PATH.
"""
import json
import math
import os
import pathlib
import shutil
import subprocess
import tempfile

import pandas as pd

EXIT_CLAIM_FAILED = 1


class KktflowError(RuntimeError):
    """The kktflow executable failed: `code` is its exit status (2 usage or config, 3 I/O, 4
    numerical failure), `message` what it printed on stderr."""

    def __init__(self, command, code, message):
        super().__init__(f"{' '.join(map(str, command))} exited {code}: {message.strip()}")
        self.code = code
        self.message = message


def executable():
    """The kktflow executable to run (see the module docstring for the search order)."""
    chosen = os.environ.get("KKTFLOW_EXE")
    if chosen:
        return chosen
    package = pathlib.Path(__file__).resolve().parent
    candidates = [package.parents[3] / "bin" / "kktflow"] if len(package.parents) > 3 else []
    candidates += [package.parents[1] / "build" / kind / "kktflow" for kind in ("release", "debug")]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("kktflow")
    if found is None:
        raise FileNotFoundError("no kktflow executable: set KKTFLOW_EXE, build it (make release) or put it on PATH")
    return found


def toml_literal(value):
    """A Python scalar or list as a TOML value: --set takes these, and dict configs are made of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    raise TypeError(f"{value!r}: a config value must be a bool, int, float, str or list of them")


def toml_text(config):
    """A config dict ({"seed": 1, "data": {"n": 10, …}, …}) as TOML: scalars first, then one
    [table] per nested dict."""
    lines = [f"{key} = {toml_literal(value)}" for key, value in config.items() if not isinstance(value, dict)]
    for table, entries in config.items():
        if isinstance(entries, dict):
            lines += ["", f"[{table}]"] + [f"{key} = {toml_literal(value)}" for key, value in entries.items()]
    return "\n".join(lines) + "\n"


def call(arguments):
    """Runs kktflow with `arguments`; returns (exit code, stdout, stderr)."""
    command = [executable(), *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True)
    return command, done.returncode, done.stdout, done.stderr


def run(config, out, overrides=None, force=False, resume=False):
    """Runs `kktflow run` on `config` and returns the run file `out`, opened by open_run.

    `config` is a TOML file's path or a dict of the same sections ({"data": {"n": 10}, …};
    give paths inside it absolute); `overrides` maps dotted keys to values, as `--set
    model.gamma=0.1` does. `force` overwrites `out`, `resume` continues it from its checkpoint.
    Raises KktflowError when the run fails (exit 2 config, 3 I/O, 4 numerical failure).
    """
    from .runfile import open_run

    with tempfile.TemporaryDirectory() as scratch:
        if isinstance(config, dict):
            path = os.path.join(scratch, "config.toml")
            pathlib.Path(path).write_text(toml_text(config), encoding="utf-8")
            config = path
        arguments = ["run", config, "-o", out, "--quiet"]
        for key, value in (overrides or {}).items():
            arguments += ["--set", f"{key}={toml_literal(value)}"]
        arguments += ["--force"] if force else []
        arguments += ["--resume"] if resume else []
        command, code, _, stderr = call(arguments)
    if code != 0:
        raise KktflowError(command, code, stderr)
    return open_run(out)


def verify(path, claims=None):
    """Runs `kktflow verify` on the run file `path` and returns its verdicts as a DataFrame indexed
    by claim name: passed, value, tolerance, certified, detail. A failed claim is a verdict, not
    an error; KktflowError is raised for usage (2) and I/O (3) failures."""
    arguments = ["verify", path, "--json"] + (["--claims", ",".join(claims)] if claims else [])
    command, code, stdout, stderr = call(arguments)
    if code not in (0, EXIT_CLAIM_FAILED):
        raise KktflowError(command, code, stderr)
    report = json.loads(stdout)
    frame = pd.DataFrame(report["claims"]).set_index("name")
    for column in ("value", "tolerance"):
        frame[column] = frame[column].astype(float)  # JSON null: not finite
    return frame
