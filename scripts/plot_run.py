#!/usr/bin/python3
"""Plot a kktflow run file or sweep index (docs/file-format.md) with Debian's h5py, numpy and matplotlib (Agg).

    plot_run.py RUN.h5 -o FIG.png               four panels against log t
    plot_run.py RUN.h5 -o FIG.png --snapshots   rows of W in the plane of the two families
    plot_run.py DIR/index.h5 -o FIG.png         a sweep: P(claim passes) against the regime indicator;
                                                a continuation: the curve against its parameter

Panels, against log t on a symmetric-log axis (linear for |log t| ≤ 1): log L; the normalized
margin and ε_KKT (log scale); the stable rank and the top singular values of W; the direction
change per unit log t (log scale) with the activation switch events of /events marked along the
bottom.

--snapshots: the rows w_j of W in the last snapshot of θ, projected onto the plane spanned by the
mean rows of the two families (a_j > 0 and a_j < 0, from /model/a), orthonormalised; one colour
per family. Frei et al. (2023): at the KKT limit every row lies in that plane (rank ≤ 2).

A sweep index (format "kktflow-sweep"): the fraction of cases in which frei2023.rank_le_2 and
frei2023.linear_boundary pass against the regime indicator (the value of frei2023.near_orthogonal,
R_min²/(n p R²)), in SWEEP_BINS bins of equally many cases (at the geometric mean of their
indicators); each case is a dot at 0 or 1 besides, and the indicator's threshold (the claim's
tolerance) a dotted line.

Any other sweep index (no case has frei2023.near_orthogonal): every case's stable rank of W against
t = e^(log t), log-log, from srank(W(0)) (its first snapshot) at t = 0 drawn at the left edge, one
line per case labelled by its parameters.

A continuation index (mode "continuation"): against the followed parameter, in parameter order,
the normalized margin (with the lower bound on the optimum of lyu2021.below_optimum when the
index has it), the stable rank, ε_KKT (log scale) and every claim's verdict (a row of
markers per claim: filled passed, open failed); each located change of support set or pattern is
a shaded band over its bracket.

The PNG is FIGSIZE × DPI pixels (SNAPSHOT_FIGSIZE for --snapshots), whatever the data. A live
run is read in SWMR mode. Exit codes are kktflow's (app/commands.hpp): 0 ok, 2 usage, 3 the run
file cannot be read or the PNG cannot be written, 4 a Python module is missing.
"""
import argparse
import sys

try:
    import h5py
    import matplotlib
    import numpy as np
except ImportError as missing:
    MISSING = missing.name
else:
    MISSING = None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

INSTALL = "apt-get install python3-matplotlib python3-h5py"
FIGSIZE = (12.0, 8.0)  # inches
SNAPSHOT_FIGSIZE = (7.0, 7.0)
DPI = 100
EXIT_USAGE, EXIT_IO, EXIT_MISSING = 2, 3, 4


def pixels(snapshots):
    """(width, height) of the PNG in pixels."""
    width, height = SNAPSHOT_FIGSIZE if snapshots else FIGSIZE
    return round(width * DPI), round(height * DPI)


class RunFileError(Exception):
    """The run file lacks what the plot needs."""


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_trajectory(f):
    """The /trajectory columns the panels need, cut to the rows every column holds."""
    names = ("log_t", "log_loss", "normalized_margin", "kkt_eps", "stable_rank", "sigma", "direction_change")
    columns = {name: f["trajectory"][name][()] for name in names}
    rows = min(len(c) for c in columns.values())
    if rows == 0:
        raise RunFileError("/trajectory holds no rows yet")
    return {name: c[:rows] for name, c in columns.items()}


def positive(values):
    """values with every entry that a log axis cannot show (≤ 0, inf, NaN) masked."""
    return np.ma.masked_where(~np.isfinite(values) | (values <= 0), values)


def panel_loss(ax, t):
    ax.plot(t["log_t"], t["log_loss"], color="C0")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylabel("log L (symlog axis)")
    ax.set_title("training loss")


def panel_margin(ax, t):
    ax.plot(t["log_t"], t["normalized_margin"], color="C0")
    ax.set_ylabel("normalized margin", color="C0")
    eps = ax.twinx()
    eps.plot(t["log_t"], positive(t["kkt_eps"]), color="C3")
    eps.set_yscale("log")
    eps.set_ylabel("ε_KKT", color="C3")
    ax.set_title("normalized margin and ε_KKT")


def panel_rank(ax, t):
    ax.plot(t["log_t"], t["stable_rank"], color="k", label="stable rank")
    ax.set_ylabel("stable rank ‖W‖_F² / ‖W‖₂²")
    sigma = ax.twinx()
    for k in range(t["sigma"].shape[1]):
        sigma.plot(t["log_t"], positive(t["sigma"][:, k]), lw=1, label=f"σ{k + 1}")
    sigma.set_yscale("log")
    sigma.set_ylabel("top singular values of W")
    sigma.legend(loc="center right", fontsize="small")
    ax.set_title("stable rank and singular values")


def panel_direction(ax, t, events):
    ax.plot(t["log_t"], positive(t["direction_change"]), color="C0")
    ax.set_yscale("log")
    ax.set_ylabel("‖Δθ̂‖ per unit log t")
    ax.set_title("direction change; switch events")
    kinds = (("crossing", (1, -1), "C1"), ("starts sliding", (0,), "C2"), ("leaves kink", (2, -2), "C4"))
    bottom = ax.get_xaxis_transform()  # x in data, y in axes units: a rug along the bottom
    for label, signs, colour in kinds:
        at = events["log_t"][np.isin(events["new_sign"], signs)]
        if len(at):
            ax.vlines(at, 0, 0.08, transform=bottom, colors=colour, lw=0.8, label=f"{label} ({len(at)})")
    if len(events["log_t"]):
        ax.legend(loc="upper right", fontsize="small")


def read_events(f):
    log_t, new_sign = f["events/log_t"][()], f["events/new_sign"][()]
    rows = min(len(log_t), len(new_sign))
    return {"log_t": log_t[:rows], "new_sign": new_sign[:rows]}


def describe(f, path):
    model = f["model"].attrs
    return (f"{path}: {text(f.attrs['status'])}; n × d = {f['data/X'].shape[0]} × {f['data/X'].shape[1]}, "
            f"m = {int(model.get('width', 0))}, γ = {model.get('gamma', float('nan')):g}, "
            f"{text(model.get('loss', '?'))} loss")


def plot_trajectory(f, path):
    t = read_trajectory(f)
    events = read_events(f)
    fig, axes = plt.subplots(2, 2, figsize=FIGSIZE, dpi=DPI, sharex=True)
    panel_loss(axes[0, 0], t)
    panel_margin(axes[0, 1], t)
    panel_rank(axes[1, 0], t)
    panel_direction(axes[1, 1], t, events)
    # Symmetric-log x: the early phase (|log t| ≲ 10) and the late one (log t ≫ 100) both show.
    axes[0, 0].set_xscale("symlog", linthresh=1.0)
    for ax in axes[1]:
        ax.set_xlabel("log t (symlog axis)")
    fig.suptitle(describe(f, path), fontsize="medium")
    fig.tight_layout()
    return fig


def last_first_layer(f):
    """W (m × d) of the last snapshot and the outer weights a."""
    theta = f["snapshots/theta"]
    rows = min(len(theta), len(f["snapshots/point"]))
    if rows == 0:
        raise RunFileError("/snapshots holds no snapshot yet")
    m, d = (int(n) for n in theta.attrs["layer_shapes"][:2])
    if "a" not in f["model"]:
        raise RunFileError("/model/a is absent: the two families need the fixed outer layer")
    return theta[rows - 1, : m * d].reshape(m, d), f["model/a"][()], int(f["snapshots/point"][rows - 1])


def family_plane(W, a):
    """Orthonormal e1, e2 spanning the mean rows of the a_j > 0 and a_j < 0 families."""
    if not (a > 0).any() or not (a < 0).any():
        raise RunFileError("/model/a has no two families (it needs entries of both signs)")
    plus, minus = W[a > 0].mean(axis=0), W[a < 0].mean(axis=0)
    e1 = plus / np.linalg.norm(plus)
    rest = minus - (minus @ e1) * e1
    if np.linalg.norm(rest) <= 1e-12 * np.linalg.norm(minus):
        raise RunFileError("the mean rows of the two families are parallel: they span no plane")
    return e1, rest / np.linalg.norm(rest)


def plot_snapshot(f, path):
    W, a, point = last_first_layer(f)
    e1, e2 = family_plane(W, a)
    x, y = W @ e1, W @ e2
    in_plane = (x @ x + y @ y) / np.sum(W * W)
    fig, ax = plt.subplots(figsize=SNAPSHOT_FIGSIZE, dpi=DPI)
    for mask, colour, label in ((a > 0, "C0", "a_j > 0"), (a < 0, "C3", "a_j < 0")):
        ax.plot(np.stack([np.zeros(mask.sum()), x[mask]]), np.stack([np.zeros(mask.sum()), y[mask]]),
                color=colour, lw=0.5, alpha=0.5)
        ax.scatter(x[mask], y[mask], color=colour, s=16, label=f"{label} ({mask.sum()} rows)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("⟨w_j, e₁⟩  (e₁ ∥ mean row of a_j > 0)")
    ax.set_ylabel("⟨w_j, e₂⟩  (e₂ ⊥ e₁, in the plane of both means)")
    where = "θ(0)" if point < 0 else f"trajectory row {point}"
    ax.set_title(f"{describe(f, path)}\nlast snapshot ({where}): {in_plane:.6f} of ‖W‖_F² lies in the plane",
                 fontsize="small")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


SWEEP_CLAIMS = ("frei2023.rank_le_2", "frei2023.linear_boundary")
SWEEP_BINS = 8  # ours: bins of equally many cases along the indicator
REGIME_CLAIM = "frei2023.near_orthogonal"
BOUND_CLAIM = "lyu2021.below_optimum"


def is_sweep_index(f):
    return text(f.attrs.get("format", "")) == "kktflow-sweep"


def indicator_bins(indicator, bins):
    """Bins of cases by the indicator, equally many cases in each (quantiles), as index arrays."""
    order = np.argsort(indicator)
    return [chunk for chunk in np.array_split(order, min(bins, len(order))) if len(chunk)]


def plot_sweep(f, path):
    if REGIME_CLAIM not in f["verify"]:
        raise RunFileError(f"no case has the verdict {REGIME_CLAIM}: nothing to plot against")
    indicator = f["verify"][REGIME_CLAIM]["value"][()]
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    for name, colour in zip(SWEEP_CLAIMS, ("tab:blue", "tab:orange")):
        if name not in f["verify"]:
            continue
        passed = f["verify"][name]["passed"][()]
        rated = np.flatnonzero((passed >= 0) & np.isfinite(indicator))
        ax.scatter(indicator[rated], passed[rated] + (0.02 if colour == "tab:blue" else -0.02), s=10, alpha=0.4, color=colour)
        bins = indicator_bins(indicator[rated], SWEEP_BINS)
        if bins:
            x = [np.exp(np.mean(np.log(indicator[rated[b]]))) for b in bins]
            y = [np.mean(passed[rated[b]] == 1) for b in bins]
            ax.plot(x, y, "o-", color=colour, label=f"P({name} passes), {len(rated)} cases in {len(bins)} bins")
    tolerance = f["verify"][REGIME_CLAIM]["tolerance"][()]
    for threshold in np.unique(tolerance[np.isfinite(tolerance)]):
        ax.axvline(threshold, color="grey", linestyle=":", label=f"regime threshold {threshold:g}")
    ax.set_xscale("log")
    ax.set_xlabel("regime indicator R_min²/(n p R²) (frei2023.near_orthogonal)")
    ax.set_ylabel("fraction of cases that pass")
    ax.set_ylim(-0.08, 1.08)
    ax.legend(loc="best")
    cases, done = f["cases/case"].shape[0], int(f.attrs["done"])
    ax.set_title(f"{path}: {done} of {cases} cases done, {float(f.attrs['wall_s']):.0f} s on {int(f.attrs['workers'])} workers",
                 fontsize="medium")
    fig.tight_layout()
    return fig


def initial_srank(run):
    """srank of the first layer in the first snapshot θ(0) (shapes: the attribute layer_shapes)."""
    shapes = run["snapshots/theta"].attrs["layer_shapes"]
    rows, cols = int(shapes[0]), int(shapes[1])
    W = run["snapshots/theta"][0][: rows * cols].reshape(rows, cols)
    sigma = np.linalg.svd(W, compute_uv=False)
    return float(np.sum(sigma**2) / sigma[0] ** 2)


def plot_sweep_trajectories(f, path):
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    labels, files = strings(f["cases/label"]), strings(f["cases/file"])
    for case, (label, name) in enumerate(zip(labels, files)):
        run = f["runs"][name.rsplit("/", 1)[-1].rsplit(".", 1)[0]]
        t = np.exp(run["trajectory/log_t"][()])
        srank = run["trajectory/stable_rank"][()]
        first = ax.plot(t, srank, "o-", markersize=3, label=f"case {case}: {label}")[0]
        ax.scatter([t[0] / 2], [initial_srank(run)], marker="s", color=first.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("t (squares at the left: srank of W(0))")
    ax.set_ylabel("stable rank of W")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{path}: {len(labels)} cases", fontsize="medium")
    fig.tight_layout()
    return fig


def strings(dataset):
    return [text(v) for v in dataset[()]]


def shade_changes(ax, changes):
    for before, after in zip(changes["before_value"][()], changes["after_value"][()]):
        ax.axvspan(min(before, after), max(before, after), color="tab:red", alpha=0.25)


def plot_continuation(f, path):
    c = f["continuation"]
    key = text(c.attrs["key"])
    order = np.argsort(c["value"][()], kind="stable")
    x = c["value"][()][order]
    final = f["final"]
    fig, axes = plt.subplots(4, 1, figsize=FIGSIZE, dpi=DPI, sharex=True)
    for ax, (name, label, log) in zip(axes, (("normalized_margin", "normalized margin", False),
                                             ("stable_rank", "stable rank", False), ("kkt_eps", "ε_KKT", True))):
        y = final[name][()][order]
        ax.plot(x, positive(y) if log else y, "o-", markersize=3)
        if log:
            ax.set_yscale("log")
        if name == "normalized_margin" and BOUND_CLAIM in f["verify"]:
            # lyu2021.below_optimum's value is 1 − γ/γ_LB: its lower bound on the optimum is γ/(1 − value).
            shortfall = f["verify"][BOUND_CLAIM]["value"][()][order]
            ax.plot(x, y / (1 - shortfall), "s--", markersize=3, color="tab:green",
                    label=f"optimum ≥ (an explicit net, {BOUND_CLAIM})")
            ax.legend(loc="best", fontsize="small")
        ax.set_ylabel(label)
        shade_changes(ax, c["changes"])
    verdicts = axes[3]
    claims = list(f["verify"].keys())
    for row, claim in enumerate(claims):
        passed = f["verify"][claim]["passed"][()][order]
        verdicts.scatter(x[passed == 1], np.full(np.sum(passed == 1), row), marker="o", color="tab:green", s=14)
        verdicts.scatter(x[passed == 0], np.full(np.sum(passed == 0), row), marker="o", facecolors="none",
                         edgecolors="tab:red", s=14)
    verdicts.set_yticks(range(len(claims)), claims, fontsize="x-small")
    verdicts.set_ylim(-0.5, len(claims) - 0.5)
    shade_changes(verdicts, c["changes"])
    verdicts.set_xlabel(key)
    count = c["changes/change"].shape[0]
    axes[0].set_title(f"{path}: {len(x)} cases along {key}, {count} change{'s' if count != 1 else ''} located "
                      f"(shaded, locate_tol {float(c.attrs['locate_tol']):g})", fontsize="medium")
    fig.tight_layout()
    return fig


def main(argv):
    parser = argparse.ArgumentParser(prog="kktflow plot", description=__doc__.split("\n")[0])
    parser.add_argument("run", help="run file written by kktflow run")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--snapshots", action="store_true", help="rows of W in the plane of the two families")
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else 0
    if MISSING is not None:
        print(f"kktflow plot: {sys.executable} lacks the module '{MISSING}'; install it: {INSTALL}", file=sys.stderr)
        return EXIT_MISSING
    try:
        with h5py.File(args.run, "r", swmr=True) as f:
            if is_sweep_index(f):
                if "continuation" in f:
                    fig = plot_continuation(f, args.run)
                elif REGIME_CLAIM in f["verify"]:
                    fig = plot_sweep(f, args.run)
                else:
                    fig = plot_sweep_trajectories(f, args.run)
            else:
                fig = (plot_snapshot if args.snapshots else plot_trajectory)(f, args.run)
    except (OSError, KeyError, RunFileError) as error:
        print(f"kktflow plot: {args.run}: {error}", file=sys.stderr)
        return EXIT_IO
    try:
        fig.savefig(args.output, dpi=DPI)
    except OSError as error:
        print(f"kktflow plot: cannot write {args.output}: {error}", file=sys.stderr)
        return EXIT_IO
    width, height = pixels(args.snapshots)
    print(f"{args.output}: {width} × {height} px")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
