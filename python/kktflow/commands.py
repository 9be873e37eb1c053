"""`run` and `verify`: kktflow's own commands from Python.

Both run in-process through the compiled module `_kktflow` (python/_kktflow.cpp: the library
`kktflow run` and `kktflow verify` are made of, so a run from Python is the CLI's run to the bit).
A run releases the GIL while it integrates; Ctrl-C stops it at a step boundary with status
"interrupted" and a checkpoint that `resume=True` continues from, then raises KeyboardInterrupt.
Progress shows through tqdm when it is installed.

Where the module is not built (a sanitizer build), both call the `kktflow` executable instead:
$KKTFLOW_EXE; `kktflow` next to this package's installation (PREFIX/bin); build/release or
build/debug of the source tree this package sits in; `kktflow` on PATH.
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


def compiled():
    """The compiled module _kktflow, or None where it is not built."""
    try:
        import _kktflow
    except ImportError:
        return None
    return _kktflow


class _TqdmRows:
    """Shows a run's rows on a tqdm bar: how far ε_KKT has come towards its target, in decades."""

    def __init__(self):
        from tqdm.auto import tqdm

        # The total (decades to the target) is known from the first row; 1 until then.
        self.bar = tqdm(total=1.0, unit="dec", bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} decades [{elapsed}{postfix}]")
        self.first = None

    def __call__(self, row):
        eps = row["kkt_eps"]
        if math.isfinite(eps) and eps > 0:
            if self.first is None:
                self.first = math.log10(eps)
                self.bar.total = max(self.first - math.log10(row["target"]), 1e-9)
            self.bar.n = min(max(self.first - math.log10(eps), 0.0), self.bar.total)
        self.bar.set_postfix_str(f"log t {row['log_t']:.4g}, ε_KKT {eps:.2e}", refresh=False)
        self.bar.refresh()

    def close(self):
        self.bar.close()


def _progress_rows(progress):
    """The callable that receives each row: `progress` itself, a tqdm bar (True), or none."""
    if callable(progress):
        return progress
    if progress:
        try:
            return _TqdmRows()
        except ImportError:
            return None
    return None


def _run_in_process(module, config, out, overrides, force, resume, progress):
    path, text = (config, "") if not isinstance(config, dict) else ("", toml_text(config))
    sets = [f"{key}={toml_literal(value)}" for key, value in (overrides or {}).items()]
    rows = _progress_rows(progress)
    try:
        try:
            outcome = module.run(str(path), text, sets, str(out), force, resume, rows)
        except module.ConfigError as error:
            raise KktflowError(["kktflow.run", str(config)], 2, str(error)) from None
        except module.FileError as error:
            raise KktflowError(["kktflow.run", str(config)], 3, str(error)) from None
    finally:
        if hasattr(rows, "close"):
            rows.close()
    if outcome["exit_code"] not in (0, 130):
        raise KktflowError(["kktflow.run", str(config)], outcome["exit_code"], outcome["message"] or outcome["reason"])


def run(config, out, overrides=None, force=False, resume=False, progress=True):
    """Runs `config` into the run file `out` and returns it, opened by open_run.

    `config` is a TOML file's path or a dict of the same sections ({"data": {"n": 10}, …};
    relative paths inside a dict are relative to the working directory); `overrides` maps dotted
    keys to values, as `--set model.gamma=0.1` does. `force` overwrites `out`, `resume`
    continues it from its checkpoint. `progress`: True shows a tqdm bar (when tqdm is installed),
    a callable receives each trajectory row as a dict, False shows nothing.
    Raises KktflowError when the run fails (exit 2 config, 3 I/O, 4 numerical failure), and
    KeyboardInterrupt after Ctrl-C has stopped it cleanly.
    """
    from .runfile import open_run

    module = compiled()
    if module is not None:
        _run_in_process(module, config, out, overrides, force, resume, progress)
        return open_run(out)
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
    """Checks the claims (every one that applies when `claims` is None) on the run file `path`,
    records them in it as `kktflow verify` does, and returns the verdicts as a DataFrame indexed
    by claim name: passed, value, tolerance, certified, detail. A failed claim is a verdict, not
    an error; KktflowError is raised for usage (2) and I/O (3) failures."""
    module = compiled()
    if module is not None:
        try:
            rows = module.verify(str(path), list(claims or []))
        except ValueError as error:
            raise KktflowError(["kktflow.verify", str(path)], 2, str(error)) from None
        except module.FileError as error:
            raise KktflowError(["kktflow.verify", str(path)], 3, str(error)) from None
        return pd.DataFrame(rows).set_index("name")
    arguments = ["verify", path, "--json"] + (["--claims", ",".join(claims)] if claims else [])
    command, code, stdout, stderr = call(arguments)
    if code not in (0, EXIT_CLAIM_FAILED):
        raise KktflowError(command, code, stderr)
    report = json.loads(stdout)
    frame = pd.DataFrame(report["claims"]).set_index("name")
    for column in ("value", "tolerance"):
        frame[column] = frame[column].astype(float)  # JSON null: not finite
    return frame
