"""A continuation sweep's figure: the limit followed along its parameter.

Against the followed key, in parameter order: the normalized margin (with the lower bound on the
optimum that lyu2021.below_optimum finds, where the sweep has it), σ₃/σ₁ and the stable rank,
ε_KKT and 1 − β, and every claim's verdict as a row of markers (filled green ✓ passed, open red
✗ failed, grey – not evaluated). Each located change of support set or activation pattern is a
shaded band over the bracket that holds it.
"""
import numpy as np
from matplotlib import pyplot as plt

from .style import DPI, FAIL_COLOUR, FIGSIZE, PASS_COLOUR, UNRATED_COLOUR, legend, log_axis, positive, short, value_ticks

BOUND_CLAIM = "lyu2021.below_optimum"


def shade_changes(ax, changes, label=False):
    """Shaded brackets of the located changes (the first one labelled when `label`)."""
    for k, row in enumerate(changes.itertuples()):
        low, high = sorted((row.before_value, row.after_value))
        what = "support" + (" and pattern" if getattr(row, "pattern_changed", False) else "")
        ax.axvspan(low, high, color="tab:red", alpha=0.2,
                   label=f"{what} change located in [{short(low)}, {short(high)}]" if label else None)


def panel_margin(ax, frame, x, key):
    y = frame["normalized_margin"].to_numpy(dtype=float)
    ax.plot(x, y, "o-", markersize=3, label="normalized margin of the limit")
    if f"{BOUND_CLAIM}.value" in frame:
        # below_optimum's value is the shortfall 1 − γ/γ_LB, so its lower bound on the optimum is γ/(1 − value).
        bound = y / (1 - frame[f"{BOUND_CLAIM}.value"].to_numpy(dtype=float))
        ax.plot(x, bound, "s--", markersize=3, color="tab:green", label="the optimum is at least this (an explicit net)")
    ax.set_ylabel("minᵢ qᵢ / ‖θ‖ᴸ")
    ax.set_title("normalized margin", fontsize="medium")


def panel_log(ax, frame, x, columns, labels, title):
    values = []
    for column, label, style in zip(columns, labels, ("o-", "s--")):
        y = frame[column].to_numpy(dtype=float)
        if not (np.isfinite(y) & (y > 0)).any():
            continue  # σ3/σ1 of a layer with fewer than three singular values
        ax.plot(x, positive(y), style, markersize=3, label=label)
        values.append(y)
    log_axis(ax, np.concatenate(values))
    ax.set_title(title, fontsize="medium")


def panel_verdicts(ax, frame, x):
    """One row of markers per claim; the legend says what the markers mean."""
    claims = [c[: -len(".passed")] for c in frame.columns if c.endswith(".passed")]
    for row, claim in enumerate(claims):
        verdict = frame[f"{claim}.passed"]
        passed = verdict.fillna(False).to_numpy(dtype=bool)
        failed = (~verdict.fillna(True)).to_numpy(dtype=bool)
        unrated = verdict.isna().to_numpy()
        ax.scatter(x[passed], np.full(passed.sum(), row), marker="o", color=PASS_COLOUR, s=22,
                   label="✓ passed" if row == 0 else None)
        ax.scatter(x[failed], np.full(failed.sum(), row), marker="o", facecolors="none", edgecolors=FAIL_COLOUR, s=22,
                   label="✗ failed" if row == 0 else None)
        ax.scatter(x[unrated], np.full(unrated.sum(), row), marker="_", color=UNRATED_COLOUR, s=22,
                   label="– not evaluated" if row == 0 else None)
    ax.set_yticks(range(len(claims)), claims, fontsize="x-small")
    ax.set_ylim(-0.7, len(claims) - 0.3)
    ax.set_title("verdicts of kktflow verify, per case", fontsize="medium")


def plot_continuation(frame, changes, path):
    """The continuation's figure (module docstring), 1200 × 800 px at DPI."""
    key = frame.attrs.get("continuation_key", frame.attrs.get("keys", ["?"])[0])
    ordered = frame.sort_values(key, kind="stable")
    x = ordered[key].to_numpy(dtype=float)
    fig, axes = plt.subplots(2, 2, figsize=FIGSIZE, dpi=DPI, layout="constrained", sharex=True)
    panel_margin(axes[0, 0], ordered, x, key)
    panel_log(axes[0, 1], ordered, x, ["sigma3_over_sigma1", "stable_rank"], ["σ3/σ1", "stable rank"], "rank of the limit")
    panel_log(axes[1, 0], ordered, x, ["kkt_eps", "one_minus_beta"], ["ε_KKT", "1 − β"], "KKT figures at the end")
    panel_verdicts(axes[1, 1], ordered, x)
    for k, ax in enumerate(axes.flat):
        shade_changes(ax, changes, label=k == 0)
        value_ticks(ax, x)
        if k >= 2:
            ax.set_xlabel(f"{key} (followed; a tick per case, labels where they fit)")
        legend(ax, loc="best", fontsize="x-small")
    start, end = frame.attrs.get("continuation_from"), frame.attrs.get("continuation_to")
    fig.suptitle(f"continuation along {key} from {short(start)} to {short(end)}: {len(frame)} cases, "
                 f"{len(changes)} change{'s' if len(changes) != 1 else ''} of the limit's support or pattern located "
                 f"(shaded; locate_tol {short(frame.attrs.get('continuation_locate_tol'))})", fontsize="medium")
    return fig
