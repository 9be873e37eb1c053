"""Run panels every model kind shares, each drawn against log t from the trajectory.

Each function takes a matplotlib Axes and a `RunView` (the opened run, its configuration and its
verdicts) and draws one panel: the loss, the margins, the KKT figures with their stop
tolerances, the singular-value ratios behind the rank claim, and the activation switches as a
rate per unit log t.
"""
from dataclasses import dataclass, field

import numpy as np

from .style import legend, log_axis, log_t_axis, note, positive, short, symlog_axis, tolerance_line

MARKER_ROWS = 8  # fewer trajectory rows than this: draw markers, a line alone hides them
RATE_BINS = 60


@dataclass
class RunView:
    """What a run figure reads: the Dataset, the resolved config and the verdicts by claim name."""

    run: object
    config: dict
    verdicts: dict = field(default_factory=dict)  # name → (passed, value, tolerance, certified)

    @property
    def kind(self):
        return self.run.attrs.get("model_kind", "")

    @property
    def log_t(self):
        return self.run["log_t"].values

    def stop(self, key):
        """A stop tolerance from the resolved config, None when absent or not positive."""
        value = self.config.get("stop", {}).get(key)
        return float(value) if isinstance(value, (int, float)) and value > 0 else None

    def claim_tolerance(self, name):
        return self.verdicts[name][2] if name in self.verdicts else None


def line_style(rows):
    return {"marker": "o", "markersize": 4} if rows < MARKER_ROWS else {}


def panel_loss(ax, view, with_norm=True):
    """log L (symmetric-log axis) with stop.loss, and ‖θ‖ on a log twin axis."""
    log_loss = view.run["log_loss"].values
    ax.plot(view.log_t, log_loss, color="C0", label="log L", **line_style(len(log_loss)))
    extra = []
    if view.stop("loss"):
        extra = [np.log(view.stop("loss"))]
        ax.axhline(extra[0], color="C0", linestyle="--", linewidth=1, label=f"log(stop.loss = {short(view.stop('loss'))})")
    symlog_axis(ax, np.concatenate([log_loss, extra]), "y")
    ax.set_ylabel("log L" + ("  (symmetric-log axis)" if ax.get_yscale() == "symlog" else ""))
    twins = []
    if with_norm:
        twins.append(ax.twinx())
        twins[0].plot(view.log_t, positive(view.run["norm"].values), color="0.4", linestyle=":", label="‖θ‖ (right axis)",
                      **line_style(len(log_loss)))
        log_axis(twins[0], view.run["norm"].values)
        twins[0].set_ylabel("‖θ‖")
    legend(ax, *twins, loc="best")
    ax.set_title("training loss and ‖θ‖" if with_norm else "training loss")
    log_t_axis(ax, view.log_t)


def robust_limits(reference, *others):
    """y limits that show where the margins end up, not early values orders of magnitude below:
    down to at most twice the reference's last value below zero."""
    data = np.concatenate([np.asarray(s, dtype=float) for s in (reference, *others)])
    data = data[np.isfinite(data)]
    finite = np.asarray(reference, dtype=float)[np.isfinite(reference)]
    if data.size == 0 or finite.size == 0:
        return None
    final = abs(finite[-1])
    low = max(data.min(), -2.0 * final) if final > 0 else data.min()
    high = data.max()
    pad = 0.08 * (high - low) if high > low else 1.0
    return low - pad, high + pad


def panel_margins(ax, view):
    """Normalized margin min_i q_i/‖θ‖^L and Lyu & Li's smoothed margin (which never decreases)."""
    normalized = view.run["normalized_margin"].values
    smoothed = view.run["smoothed_margin"].values
    style = line_style(len(normalized))
    ax.plot(view.log_t, normalized, color="C0", label=f"normalized margin (last {short(normalized[-1])})", **style)
    ax.plot(view.log_t, smoothed, color="C1", linestyle="--", label=f"smoothed margin γ̃ (last {short(smoothed[-1])})", **style)
    limits = robust_limits(normalized, smoothed)
    if limits:
        ax.set_ylim(*limits)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_ylabel("margin / ‖θ‖ᴸ")
    legend(ax, loc="lower right")
    ax.set_title("margins")
    log_t_axis(ax, view.log_t)


def tolerance_dashes(k):
    """Dashes of the k-th of three stop-tolerance lines, offset so that lines at one value (ε_KKT
    and 1 − β both stopping at 1e-6) alternate their colours instead of hiding each other."""
    return (3.0 * k, (3.0, 6.0))


def panel_kkt(ax, view):
    """ε_KKT, 1 − β and the direction change per unit log t, with their stop tolerances."""
    figures = (("kkt_eps", "ε_KKT", "C3", "kkt_eps"), ("one_minus_beta", "1 − β", "C0", "one_minus_beta"),
               ("direction_change", "direction change", "C2", "direction_change"))
    shown, tolerances = [], []
    for k, (name, label, colour, stop_key) in enumerate(figures):
        values = view.run[name].values
        if not (np.isfinite(values) & (values > 0)).any():
            continue
        tolerance = view.stop(stop_key)
        stop_words = f"; stop {short(tolerance)}" if tolerance else ""
        # Markers by the rows a log axis can show: ε_KKT is +inf until the margin turns positive,
        # and a run cut short may have one finite row, which a line alone does not draw.
        ax.plot(view.log_t, positive(values), color=colour, label=f"{label} (last {short(values[-1])}{stop_words})",
                **line_style(int(np.count_nonzero(np.isfinite(values) & (values > 0)))))
        shown.append(values)
        if tolerance:
            tolerances.append(tolerance)
            ax.axhline(tolerance, color=colour, linestyle=tolerance_dashes(k), linewidth=1.2)
    if shown and not (np.isfinite(view.run["kkt_eps"].values) & (view.run["kkt_eps"].values > 0)).any():
        ax.plot([], [], color="C3", label="ε_KKT: not defined, no positive margin yet")
    if not shown:
        note(ax, "ε_KKT and 1 − β are not defined for this run\n(no positive margin was reached)")
        ax.set_title("KKT figures")
        return
    log_axis(ax, np.concatenate(shown), extra=[tolerances])
    ax.set_ylabel("ε_KKT, 1 − β, ‖Δθ̂‖ per unit log t")
    legend(ax, loc="best", fontsize="x-small")
    ax.set_title("KKT figures; dashed: stop rules")
    log_t_axis(ax, view.log_t)


RANK_FIGURE = {"leaky2_fixed_outer": (3, "rank ≤ 2"), "two_layer_leaky": (2, "rank 1"), "deep": (2, "rank 1")}


def panel_rank(ax, view, claim="frei2023.rank_le_2"):
    """σ_k/σ₁ of the first layer, the ratio behind the kind's rank claim drawn thick (σ₃/σ₁ for
    Frei's rank ≤ 2, σ₂/σ₁ where the limit has rank 1), and the stable rank on a twin axis."""
    emphasis, words = RANK_FIGURE.get(view.kind, (0, ""))
    sigma = view.run["sigma"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = sigma[:, 1:] / sigma[:, :1]
    drawn = []
    for k in range(ratios.shape[1]):
        values = ratios[:, k]
        if not (np.isfinite(values) & (values > 0)).any():
            continue
        thick = k + 2 == emphasis
        ax.plot(view.log_t, positive(values), color=f"C{k + 1}", linewidth=2.4 if thick else 1.0, zorder=3 if thick else 2,
                label=f"σ{k + 2}/σ1 (last {short(values[-1])}){f' — the {words} figure' if thick else ''}",
                **line_style(len(values)))
        drawn.append(values)
    if not drawn:
        note(ax, "the first layer is a vector: one singular value")
        ax.set_title("singular values")
        return
    tolerance = view.claim_tolerance(claim)
    tolerance_line(ax, tolerance, f"{claim} tolerance", "k", ":")
    if claim in view.verdicts:
        ax.plot([view.log_t[-1]], [view.verdicts[claim][1]], marker="*", markersize=12, color="k", linestyle="none",
                label=f"verify, polished limit: σ3/σ1 = {short(view.verdicts[claim][1])}")
    log_axis(ax, np.concatenate(drawn), extra=[[tolerance or np.nan, view.verdicts.get(claim, (0, np.nan))[1]]])
    ax.set_ylabel("σₖ / σ₁ of the first layer")
    srank = ax.twinx()
    values = view.run["stable_rank"].values
    srank.plot(view.log_t, positive(values), color="k", linewidth=1.0, linestyle="-.",
               label=f"stable rank (right axis; last {short(values[-1])})", **line_style(len(values)))
    log_axis(srank, values)
    srank.set_ylabel("stable rank ‖W‖_F² / ‖W‖₂²")
    legend(ax, srank, loc="best", fontsize="x-small")
    ax.set_title("rank of the first layer")
    log_t_axis(ax, view.log_t)


SWITCH_KINDS = (("crossings", (1, -1), "C1"), ("sliding starts", (0,), "C2"), ("leaves a kink", (2, -2), "C4"))


def axis_spaced(ax, low, high, count):
    """`count` values from `low` to `high`, equally spaced on the x axis of `ax` as it is scaled."""
    transform = ax.xaxis.get_transform()
    ends = transform.transform(np.array([low, high]))
    if ends[1] <= ends[0]:
        ends = ends + np.array([-0.5, 0.5])
    values = transform.inverted().transform(np.linspace(ends[0], ends[1], count))
    # The round trip through the transform moves the ends by an ulp or so: keep `low` and `high`
    # inside, or events at the first or last log t fall out of the bins.
    values[0], values[-1] = min(values[0], low), max(values[-1], high)
    return values


def row_edges(ax, row_log_t):
    """Trajectory rows to bin the switches between: the first row at or after each of RATE_BINS + 1
    points equally spaced on the log-t axis, with no bin of zero width. A bin then holds whole
    steps, so that steps wider than a bin (a run of few steps) leave no empty bins between them."""
    targets = axis_spaced(ax, row_log_t[0], row_log_t[-1], RATE_BINS + 1)
    chosen = [0]
    for i in sorted(set(np.clip(np.searchsorted(row_log_t, targets), 0, row_log_t.size - 1).tolist())):
        if row_log_t[i] > row_log_t[chosen[-1]]:
            chosen.append(i)
    return np.array(chosen)


def switch_counts(view, ax, events, points):
    """(edges, count), count(mask) the number of the masked events in each bin: events binned by
    the trajectory row that records them (row_edges), or by log t on bins equally spaced on the
    axis where the run has fewer than two distinct rows or the events no rows."""
    row_log_t = view.log_t
    edge_rows = row_edges(ax, row_log_t) if row_log_t.size >= 2 and points is not None else np.zeros(1, dtype=int)
    if edge_rows.size >= 2:
        # An event with point k happened in (log t[k − 1], log t[k]]: it belongs to the bin b with
        # edge_rows[b] < k ≤ edge_rows[b + 1].
        bins = np.clip(np.searchsorted(edge_rows, points, side="left") - 1, 0, edge_rows.size - 2)
        return row_log_t[edge_rows], lambda mask: np.bincount(bins[mask], minlength=edge_rows.size - 1)
    edges = axis_spaced(ax, events.min(), events.max(), RATE_BINS + 1)
    return edges, lambda mask: np.histogram(events[mask], bins=edges)[0]


def panel_switches(ax, view):
    """Activation switches per unit log t (a histogram on the log-t axis, log counts), and the
    pairs held on a kink (Filippov sliding) on a twin axis."""
    events = view.run["event_log_t"].values if "event_log_t" in view.run else np.array([])
    if events.size == 0:
        note(ax, "no activation switches in this run")
        ax.set_title("activation switches")
        return
    signs = view.run["event_new_sign"].values
    points = view.run["event_point"].values if "event_point" in view.run else None
    span = np.concatenate([view.log_t, events])
    log_t_axis(ax, span)
    edges, count = switch_counts(view, ax, events, points)
    rates = []
    for label, kind_signs, colour in SWITCH_KINDS:
        mask = np.isin(signs, kind_signs)
        if not mask.any():
            continue
        rate = count(mask) / np.diff(edges)
        ax.stairs(positive(rate).filled(np.nan), edges, color=colour, linewidth=1.5, label=f"{label}: {mask.sum()} in all")
        rates.append(rate)
    log_axis(ax, np.concatenate(rates))
    ax.set_ylabel("switches per unit log t")
    sliding = view.run["sliding"].values if "sliding" in view.run else np.zeros(0)
    right = ax.twinx()
    style = line_style(view.log_t.size)
    if sliding.size and sliding.max() > 0:
        right.plot(view.log_t, sliding, color="0.3", linestyle=":", label=f"pairs held on a kink (right axis; last {sliding[-1]})",
                   **style)
        right.set_ylabel("pairs held on a kink")
    else:
        so_far = view.run["switches"].values
        right.plot(view.log_t, so_far, color="0.3", linestyle=":", label=f"switches so far (right axis; {so_far[-1]})", **style)
        right.set_ylabel("switches so far")
    legend(ax, right, loc="best", fontsize="x-small")
    ax.set_title(f"activation switches ({events.size} events)")


def panel_norm(ax, view):
    """‖θ‖ and the direction change per unit log t (square loss: θ converges, its norm levels off)."""
    norm = view.run["norm"].values
    ax.plot(view.log_t, positive(norm), color="C0", label=f"‖θ‖ (last {short(norm[-1])})", **line_style(len(norm)))
    log_axis(ax, norm)
    ax.set_ylabel("‖θ‖")
    change = ax.twinx()
    values = view.run["direction_change"].values
    change.plot(view.log_t, positive(values), color="C2", linestyle="--", label="direction change (right axis)",
                **line_style(len(values)))
    log_axis(change, values)
    change.set_ylabel("‖Δθ̂‖ / Δ log t")
    legend(ax, change, loc="upper left")
    ax.set_title("‖θ‖ and direction change")
    log_t_axis(ax, view.log_t)
