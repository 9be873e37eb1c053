"""`plot_run` and `plot_snapshots`: the figure of one run, chosen by its model kind.

Every run figure has up to six panels against log t (the claim figures of the model's paper,
with stop tolerances and claim tolerances as lines) and the `kktflow verify` verdicts written
under them, or in the sixth slot when the kind has five panels.
"""
import os

import numpy as np
from matplotlib import pyplot as plt

from ..runfile import open_run, run_config
from . import model_panels as mp
from . import panels as p
from .describe import title
from .geometry import panel_geometry
from .style import FIGSIZE, SNAPSHOT_FIGSIZE, DPI, log_t_is_symlog, short, verdict_mark


SYMLOG_NOTE = "; x axes: log t on a symmetric-log scale (linear on |log t| ≤ 1)"


def kind_panels(view):
    """The panels of the run's model kind, in reading order (left to right, top to bottom)."""
    has_events = view.run.sizes.get("event", 0) > 0
    geometry = lambda ax, v: panel_geometry(ax, v.run)  # noqa: E731
    kind = view.kind
    if kind == "leaky2_fixed_outer":
        last = mp.panel_gd_srank if str(view.run.attrs.get("model_stepper", "")).startswith("gd") else mp.panel_families
        return [p.panel_loss, p.panel_margins, p.panel_kkt, p.panel_rank, p.panel_switches, last]
    if kind == "two_layer_leaky":
        return [p.panel_loss, p.panel_margins, p.panel_kkt, p.panel_rank, p.panel_switches, mp.panel_conservation]
    if kind == "deep":
        return [p.panel_loss, p.panel_margins, p.panel_kkt, mp.panel_layers, mp.panel_invariant,
                p.panel_switches if has_events else p.panel_rank]
    if kind == "relu2":
        loss = lambda ax, v: p.panel_loss(ax, v, with_norm=False)  # noqa: E731 — panel_norm draws ‖θ‖
        return [loss, p.panel_norm, mp.panel_relu2_rank, mp.panel_balancedness, geometry]
    if kind == "linear":
        return [p.panel_loss, p.panel_margins, p.panel_kkt, mp.panel_support_gaps, geometry]
    return [p.panel_loss, p.panel_margins, p.panel_kkt, p.panel_rank, p.panel_switches]


def verdicts_of(run):
    """{claim: (passed, value, tolerance, certified)} from the run's /verify (empty if never verified)."""
    if "claim" not in run.coords:
        return {}
    return {str(name): (bool(run["verify_passed"].values[i]), float(run["verify_value"].values[i]),
                        float(run["verify_tolerance"].values[i]), bool(run["verify_certified"].values[i]))
            for i, name in enumerate(run["claim"].values)}


def draw_verdicts(ax, verdicts, columns):
    """The verify verdicts in `columns` columns, one claim a line: mark and name, then its value
    against its tolerance (on the same line in a wide strip, on the next in a narrow slot)."""
    ax.axis("off")
    if not verdicts:
        ax.text(0.0, 0.5, "not verified yet:\nrun `kktflow verify` on the file\nto add the claims' verdicts",
                transform=ax.transAxes, fontsize="medium", color="0.35", va="center")
        return
    passed = sum(v[0] for v in verdicts.values())
    stacked = columns == 1
    size = "x-small" if stacked else "small"
    ax.set_title(f"kktflow verify: {passed} of {len(verdicts)} claims passed\n"
                 + ("✓ pass, ✗ fail; value vs tolerance;\n* a certified bound" if stacked
                    else "✓ pass, ✗ fail; value vs tolerance; * a certified bound"), fontsize=size, loc="left")
    per_column = -(-len(verdicts) // columns)
    lines = per_column * (2 if stacked else 1)
    for k, (name, (ok, value, tolerance, certified)) in enumerate(verdicts.items()):
        mark, colour = verdict_mark(ok)
        row = (k % per_column) * (2 if stacked else 1)
        x, y = (k // per_column) / columns, 1.0 - (row + 0.5) / lines
        ax.text(x, y, f"{mark} {name}", transform=ax.transAxes, color=colour, fontsize=size, va="center",
                fontweight="bold")
        figures = f"{short(value)}{'*' if certified else ''} vs {short(tolerance)}"
        if stacked:
            ax.text(x + 0.06, y - 1.0 / lines, figures, transform=ax.transAxes, fontsize=size, va="center", color="0.2")
        else:
            ax.text(x + 0.97 / columns, y, figures, transform=ax.transAxes, fontsize="small", va="center", ha="right",
                    color="0.2")


def figure_layout(count):
    """(figure, panel axes, verdict axes): 2 × 3 panels; the verdicts in a strip below, or in
    the sixth slot when there are five panels."""
    fig = plt.figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    if count <= 5:
        grid = fig.add_gridspec(2, 3)
        axes = [fig.add_subplot(grid[r, c]) for r in range(2) for c in range(3)]
        return fig, axes[:count], axes[5]
    grid = fig.add_gridspec(3, 3, height_ratios=[1, 1, 0.42])
    axes = [fig.add_subplot(grid[r, c]) for r in range(2) for c in range(3)]
    return fig, axes, fig.add_subplot(grid[2, :])


def as_run(run_or_path):
    """(Dataset, path) from a Dataset or a path (opened here)."""
    if isinstance(run_or_path, (str, os.PathLike)):
        return open_run(run_or_path), os.fspath(run_or_path)
    return run_or_path, run_or_path.encoding.get("source", "")


def plot_run(run_or_path, path=None):
    """The run's figure (1200 × 800 px at DPI): the panels of its model kind and its verdicts.
    `run_or_path` is a Dataset from open_run or a run file's path; `path` names it in the title."""
    run, opened = as_run(run_or_path)
    if run.sizes.get("log_t", 0) == 0:
        raise ValueError(f"{path or opened}: /trajectory holds no rows yet")
    view = p.RunView(run, run_config(run), verdicts_of(run))
    panels = kind_panels(view)
    fig, axes, verdict_ax = figure_layout(len(panels))
    with np.errstate(divide="ignore", invalid="ignore"):
        for ax, panel in zip(axes, panels):
            panel(ax, view)
    draw_verdicts(verdict_ax, view.verdicts, 1 if len(panels) <= 5 else 2)
    fig.suptitle(title(run, path or opened) + (SYMLOG_NOTE if log_t_is_symlog(view.log_t) else ""), fontsize="medium")
    return fig


def plot_snapshots(run_or_path, path=None, snapshot=-1):
    """The first layer's rows at one snapshot (the last by default) in the model's plane
    (geometry.py), 700 × 700 px at DPI."""
    run, opened = as_run(run_or_path)
    fig, ax = plt.subplots(figsize=SNAPSHOT_FIGSIZE, dpi=DPI, layout="constrained")
    with np.errstate(divide="ignore", invalid="ignore"):
        panel_geometry(ax, run, snapshot)
    fig.suptitle(title(run, path or opened), fontsize="small")
    return fig
