"""kktflow from Python: run files and sweeps as labelled xarray/pandas objects, figures, and
runs started from a notebook.

    import kktflow
    run = kktflow.open_run("runs/frei2023.h5")      # xarray Dataset, log t a coordinate
    frame = kktflow.trajectory_frame(run)            # pandas DataFrame indexed by log t
    table = kktflow.open_sweep("sweeps/regime")      # pandas DataFrame, one row per case
    kktflow.plot_run(run).savefig("run.png")         # the claim figures of the run's model kind

Names are imported on first use, so `python -m kktflow.plot` can say which module is missing
instead of failing on import.
"""
from ._lazy import lazy_names

__all__ = [
    "open_run", "trajectory_frame", "run_config", "open_sweep", "open_sweep_changes", "open_case",
    "plot_run", "plot_snapshots", "plot_sweep", "run", "verify", "KktflowError", "FormatError",
]

_WHERE = {
    "open_run": "runfile", "trajectory_frame": "runfile", "run_config": "runfile",
    "open_sweep": "sweep", "open_sweep_changes": "sweep", "open_case": "sweep",
    "plot_run": "plot", "plot_snapshots": "plot", "plot_sweep": "plot",
    "run": "commands", "verify": "commands", "KktflowError": "commands",
    "FormatError": "_hdf5",
}


__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
