"""`plot_sweep`: the figure of a sweep (its index, DIR/index.h5), every parameter on a labelled axis.

Grid and list sweeps: the top row draws final figures of every case (normalized margin; σ₃/σ₁
and stable rank; ε_KKT and 1 − β) against the swept key with the most values, one line per value
of the second key, seeds as dots around their mean. The bottom row has one verdict map per claim:
cells along the same keys, coloured by the fraction of cases that pass (green all, red none) with
the count written in each; and, for sweeps of a few cases, each case's stable rank against log t.
Continuations are drawn by continuation_figure.py.
"""
import os
import tomllib

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.colors import LinearSegmentedColormap

from ..sweep import index_path, open_case, open_sweep, open_sweep_changes
from . import sweep_axes as sa
from .continuation_figure import plot_continuation
from .style import DPI, FAIL_COLOUR, FIGSIZE, PASS_COLOUR, legend, log_axis, log_t_axis, note, positive, short

TRAJECTORY_CASES = 6  # at most this many cases: also draw each case's trajectory against log t
FLAT = 1e-9  # a final figure that varies less than this (relative) across the cases tells nothing
VERDICT_COLOURS = LinearSegmentedColormap.from_list("verdicts", [FAIL_COLOUR, "#fee08b", PASS_COLOUR])


def claims_of(frame):
    """The claims with verdicts, in the order the sweep file lists them (then any others)."""
    found = [c[: -len(".passed")] for c in frame.columns if c.endswith(".passed")]
    listed = tomllib.loads(frame.attrs.get("sweep", "")).get("claims", [])
    return [c for c in listed if c in found] + [c for c in found if c not in listed]


def by_series(frame, secondary):
    """(label, rows) for each line: one per value of the secondary key, or all rows."""
    if secondary is None:
        return [(None, frame)]
    return [(sa.series_label(secondary, v), frame[frame[secondary] == v]) for v in sorted(frame[secondary].unique())]


def draw_figure_vs_key(ax, frame, primary, secondary, column, log, style="-", labelled=True):
    """Each case's `column` against the primary key (dots) and the mean over replicates (line,
    geometric on a log axis); colours tell the secondary key's values apart."""
    for k, (label, rows) in enumerate(by_series(frame, secondary)):
        x = sa.positions(rows, primary)
        y = rows[column].to_numpy(dtype=float)
        ax.plot(x, positive(y) if log else y, "o", color=f"C{k}", alpha=0.35, markersize=4)
        centres = sorted(set(x))
        means = [sa.geometric_mean(y[x == c]) if log else np.nanmean(y[x == c]) for c in centres]
        ax.plot(centres, means, style, color=f"C{k}", label=label if labelled else None)


def panel_final(ax, frame, primary, secondary, columns, title, ylabel, stop=None):
    """Final figures against the primary key; a log axis when every value is positive."""
    columns = [c for c in columns if np.isfinite(frame[c].to_numpy(dtype=float)).any()]
    values = np.concatenate([frame[c].to_numpy(dtype=float) for c in columns] or [np.array([np.nan])])
    log = bool(np.all(values[np.isfinite(values)] > 0)) and columns[:1] != ["normalized_margin"]
    for k, column in enumerate(columns):
        draw_figure_vs_key(ax, frame, primary, secondary, column, log, style=("-", "--", ":")[k % 3], labelled=k == 0)
    if log:
        log_axis(ax, values, extra=[[stop or np.nan]])
    if stop:
        ax.axhline(stop, color="k", linestyle=":", linewidth=1, label=f"stop.kkt_eps = {short(stop)}")
    sa.parameter_axis(ax, frame, primary)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    legend(ax, loc="best", fontsize="x-small")


def verdict_cells(frame, claim, primary, secondary):
    """(x values, y values, passed counts, evaluated counts) over the primary × secondary grid."""
    xs = sorted(frame[primary].unique(), key=str) if not sa.numeric(frame[primary]) else sorted(frame[primary].unique())
    ys = sorted(frame[secondary].unique()) if secondary else [None]
    passed, rated = np.zeros((len(ys), len(xs))), np.zeros((len(ys), len(xs)))
    verdicts = frame[f"{claim}.passed"]
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            cell = (frame[primary] == xv) & ((frame[secondary] == yv) if secondary else True)
            known = verdicts[cell].dropna()
            passed[j, i], rated[j, i] = known.sum(), len(known)
    return xs, ys, passed, rated


def panel_verdicts(ax, frame, claim, primary, secondary):
    """A claim's verdicts on the primary × secondary grid: colour the fraction passing, text k/n."""
    xs, ys, passed, rated = verdict_cells(frame, claim, primary, secondary)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(rated > 0, passed / rated, np.nan)
    image = ax.imshow(share, cmap=VERDICT_COLOURS, vmin=0, vmax=1, aspect="auto", origin="lower")
    for j in range(len(ys)):
        for i in range(len(xs)):
            text = f"{int(passed[j, i])}/{int(rated[j, i])}" if rated[j, i] else "n/a"
            ax.text(i, j, text, ha="center", va="center", fontsize="x-small", color="k")
    ax.set_xticks(range(len(xs)), [short(v) for v in xs], fontsize="x-small", rotation=45 if len(xs) > 4 else 0)
    ax.set_yticks(range(len(ys)), [short(v) for v in ys] if secondary else ["all"], fontsize="x-small")
    ax.set_xlabel(primary, fontsize="small")
    ax.set_ylabel(secondary or "", fontsize="small")
    ax.set_title(claim, fontsize="small")
    return image


def varies(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return values.size > 1 and np.ptp(values) > FLAT * max(np.abs(values).max(), 1e-300)


def panel_trajectories(ax, where, frame):
    """Each case's stable rank against log t (its normalized margin when no case's rank moves),
    labelled by its swept values; squares at the left edge mark srank W(0)."""
    runs = []
    for case, row in frame[frame["state"] == "done"].iterrows():
        with open_case(where, case) as run:
            runs.append((case, row, run["log_t"].values, run["stable_rank"].values,
                         run["normalized_margin"].values, initial_srank(run)))
    if not runs:
        note(ax, "no case has finished")
        return
    rank = any(varies(srank) for *_, srank, _, _ in runs)
    for case, row, log_t, srank, margin, _ in runs:
        values = ", ".join(f"{k} = {short(row[k])}" for k in frame.attrs.get("keys", []) if k in frame)
        ax.plot(log_t, positive(srank) if rank else margin, "o-", markersize=2.5, label=f"case {case}: {values}")
    log_t_axis(ax, np.concatenate([r[2] for r in runs]))
    if rank:
        left = ax.get_xlim()[0]
        for line, (*_, start) in zip(ax.get_lines(), runs):
            ax.plot([left], [start], "s", color=line.get_color(), markersize=7, clip_on=False, zorder=4)
        ax.plot([], [], "s", color="0.4", label="squares at the left edge: W(0), at t = 0")
        log_axis(ax, np.concatenate([r[3] for r in runs] + [[r[5] for r in runs]]))
    ax.set_ylabel("stable rank of the first layer" if rank else "normalized margin")
    ax.set_title("stable rank per case" if rank else "normalized margin per case", fontsize="medium")
    legend(ax, loc="best", fontsize="x-small")


def panel_claim_values(ax, frame, primary, secondary, claims):
    """Each claim's value against the primary key (mean over replicates), its tolerance dotted in
    the same colour: the figures the verdicts rest on."""
    values = []
    for k, claim in enumerate(claims):
        y = frame[f"{claim}.value"].to_numpy(dtype=float)
        x = sa.positions(frame, primary)
        centres = sorted(set(x))
        ax.plot(x, positive(y), "o", color=f"C{k}", alpha=0.35, markersize=4)
        ax.plot(centres, [sa.geometric_mean(y[x == c]) for c in centres], "-", color=f"C{k}", label=claim)
        tolerance = np.nanmax(frame[f"{claim}.tolerance"].to_numpy(dtype=float))
        if np.isfinite(tolerance) and tolerance > 0:
            ax.axhline(tolerance, color=f"C{k}", linestyle=":", linewidth=1)
        values += [y, [tolerance]]
    log_axis(ax, np.concatenate(values) if values else [])
    sa.parameter_axis(ax, frame, primary)
    ax.set_ylabel("claim value (dotted: its tolerance)")
    ax.set_title("the figures behind the verdicts", fontsize="medium")
    legend(ax, loc="best", fontsize="x-small")


def initial_srank(run):
    """srank of the first layer at θ(0) (the snapshot at t = 0), NaN without one."""
    points = run["snapshot_point"].values if "snapshot_point" in run else np.array([])
    if points.size == 0 or points[0] >= 0:
        return np.nan
    first = np.atleast_2d(run[str(run["layer"].values[0])].isel(snapshot=0).values)
    sigma = np.linalg.svd(first, compute_uv=False)
    return float(np.sum(sigma ** 2) / sigma[0] ** 2)


def first_case_stop(where, frame, key):
    """A stop tolerance from the first finished case's resolved config (None if absent)."""
    from ..runfile import run_config

    done = frame.index[frame["state"] == "done"]
    if len(done) == 0:
        return None
    with open_case(where, done[0]) as run:
        value = run_config(run).get("stop", {}).get(key)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def sweep_title(frame, path):
    attrs = frame.attrs
    name = os.path.basename(os.path.dirname(os.path.abspath(path))) if path else "sweep"
    return (f"sweep {name} ({os.path.basename(str(attrs.get('sweep_file', '')))}, mode {attrs.get('mode')}): "
            f"{attrs.get('done', 0)} of {attrs.get('cases', len(frame))} cases done, {attrs.get('failed', 0)} failed; "
            f"swept {', '.join(attrs.get('keys', []))}")


def plot_grid(frame, where, path):
    """Grid and list sweeps (module docstring)."""
    primary, secondary, replicates = sa.roles(frame)
    claims = claims_of(frame)
    with_trajectories = len(frame) <= TRAJECTORY_CASES
    bottom = len(claims) + with_trajectories
    fig = plt.figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 1)
    top = grid[0].subgridspec(1, 3).subplots()
    low = grid[1].subgridspec(1, max(bottom, 1)).subplots(squeeze=False)[0]
    if primary is None:
        for ax in list(top) + list(low):
            note(ax, "no swept key takes more than one value")
        fig.suptitle(sweep_title(frame, path), fontsize="medium")
        return fig
    panel_final(top[0], frame, primary, secondary, ["normalized_margin"], "normalized margin at the end", "minᵢ qᵢ / ‖θ‖ᴸ")
    if varies(frame["sigma3_over_sigma1"]) or varies(frame["stable_rank"]) or not claims:
        panel_final(top[1], frame, primary, secondary, ["sigma3_over_sigma1", "stable_rank"], "rank at the end",
                    "σ3/σ1 (solid), stable rank (dashed)")
    else:  # the rank is the same in every case (a linear model): show what the claims measured
        panel_claim_values(top[1], frame, primary, secondary, claims)
    panel_final(top[2], frame, primary, secondary, ["kkt_eps", "one_minus_beta"], "KKT figures at the end",
                "ε_KKT (solid), 1 − β (dashed)", first_case_stop(where, frame, "kkt_eps"))
    image = None
    for ax, claim in zip(low, claims):
        image = panel_verdicts(ax, frame, claim, primary, secondary)
    if image is not None:
        bar = fig.colorbar(image, ax=list(low[: len(claims)]), location="bottom", shrink=0.6, aspect=40)
        bar.set_label("fraction of cases that pass (cell text: passed / evaluated)"
                      + (f"; aggregated over {', '.join(replicates)}" if replicates else ""), fontsize="small")
    if with_trajectories:
        panel_trajectories(low[-1], where, frame)
    if not claims and not with_trajectories:
        note(low[0], "no claim was verified in this sweep")
    fig.suptitle(sweep_title(frame, path) + ("; dots: cases, lines: their mean" if replicates else ""), fontsize="medium")
    return fig


def plot_sweep(where, path=None):
    """The figure of the sweep in directory `where` (or its index file), 1200 × 800 px at DPI."""
    path = path or index_path(where)
    frame = open_sweep(where)
    if len(frame) == 0:
        raise ValueError(f"{path}: the sweep has no cases")
    with np.errstate(divide="ignore", invalid="ignore"):
        if frame.attrs.get("mode") == "continuation":
            return plot_continuation(frame, open_sweep_changes(where), path)
        return plot_grid(frame, where, path)

