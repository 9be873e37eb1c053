"""kktflow's figures: `plot_run` (every model kind), `plot_snapshots` (the first layer's rows in
the model's plane) and `plot_sweep` (grids, lists, continuations). Each returns a matplotlib
Figure; `python -m kktflow.plot FILE -o FIG.png` is what `kktflow plot` runs.

Names are imported on first use, so that `python -m kktflow.plot` can report a missing module.
"""
from .._lazy import lazy_names

__all__ = ["plot_run", "plot_snapshots", "plot_sweep"]
_WHERE = {"plot_run": "run_figure", "plot_snapshots": "run_figure", "plot_sweep": "sweep_figure"}


__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
