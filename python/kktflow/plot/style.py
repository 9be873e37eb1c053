"""What every kktflow figure shares: sizes, number formatting, readable log and symlog axes, stop
tolerances drawn as lines, and the verify verdicts written under the panels.

Axes of quantities that span decades are log axes whose ticks are whole decades, thinned so that
no two labels overlap; log t, which runs from about −7 to 10⁹ and beyond, is a symmetric-log axis
(linear on |log t| ≤ 1) with the same decade ticks, and a linear one for a run that never leaves
|log t| ≤ LOG_T_LINEAR_WITHIN, where the symmetric-log axis would squeeze most of it into its
last decade. Legends show values to three significant digits and avoid the lines of twin axes.
"""
import math

import matplotlib
import numpy as np
from matplotlib import ticker
from matplotlib.legend import Legend

FIGSIZE = (12.0, 8.0)  # inches: 1200 × 800 px at DPI
SNAPSHOT_FIGSIZE = (7.0, 7.0)
DPI = 100
MAX_DECADE_TICKS = 7
SYMLOG = {"linthresh": 1.0, "linscale": 1.0}  # log t and log L: linear on [−1, 1], which takes one decade
SYMLOG_PAD = 0.02
SYMLOG_LINEAR_WITHIN = 10.0  # values within ±this go on a linear axis: a symmetric-log one has no decade to label
LOG_T_LINEAR_WITHIN = 30.0  # log t within ±this (a square-loss run, a few GD steps): a linear log-t axis
PASS_COLOUR, FAIL_COLOUR, UNRATED_COLOUR = "#1a9850", "#d73027", "#999999"


def pixels(figsize):
    """(width, height) in pixels of a figure of `figsize` inches saved at DPI."""
    return round(figsize[0] * DPI), round(figsize[1] * DPI)


def short(value):
    """A number to three significant digits, as a legend or label shows it: 0.0224, 1e-10, 2e+03 → 2000."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if 1e3 <= abs(value) < 1e5:  # 1620, not 1.62e+03
            return f"{value:.0f}"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            mantissa, exponent = f"{value:.2e}".split("e")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}e{int(exponent)}"
        return f"{value:.3g}"
    return str(value)


def positive(values):
    """values with what a log axis cannot show (≤ 0, ±inf, NaN) masked."""
    values = np.asarray(values, dtype=float)
    return np.ma.masked_where(~np.isfinite(values) | (values <= 0), values)


def decade_ticks(low, high):
    """Whole decades 10^k covering [low, high] > 0, every s-th so that at most MAX_DECADE_TICKS remain."""
    low, high = max(low, 1e-300), max(high, 1e-300)
    ks = list(range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1))
    stride = max(1, math.ceil(len(ks) / MAX_DECADE_TICKS))
    return [10.0 ** k for k in ks if k % stride == 0]


def symlog_position(value):
    """Where `value` sits on a symmetric-log axis of SYMLOG (linear on [−1, 1]), in decades."""
    a = abs(value)
    return math.copysign(a * SYMLOG["linscale"] if a <= 1 else SYMLOG["linscale"] + math.log10(a), value)


def symlog_value(position):
    """The value at `position` (decades) on a symmetric-log axis: the inverse of symlog_position."""
    a = abs(position)
    return math.copysign(a / SYMLOG["linscale"] if a <= SYMLOG["linscale"] else 10.0 ** (a - SYMLOG["linscale"]), position)


def spaced(values, gap, kept=()):
    """`kept` plus each of `values`, in order, that sits at least `gap` (symlog decades) from all kept."""
    kept = list(kept)
    for value in values:
        if all(abs(symlog_position(value) - symlog_position(k)) >= gap for k in kept):
            kept.append(value)
    return kept


def signed_decade_ticks(low, high, gap_fraction=1.0 / MAX_DECADE_TICKS):
    """0 and ±10^k within [low, high] for a symmetric-log axis, no two closer than `gap_fraction`
    of the axis: every s-th decade for the smallest s whose decades (beyond ±1) all keep that
    distance, then the other decades, ±1 and, on a short axis, 2 and 5 × 10^k where they fit."""
    span = symlog_position(high) - symlog_position(low)
    if span <= 0:
        return [low]
    gap = span * gap_fraction
    top = max(abs(low), abs(high))
    decades = [s * 10.0 ** k for k in range(1, math.floor(math.log10(top)) + 1 if top >= 10 else 1)
               for s in (1.0, -1.0) if low <= s * 10.0 ** k <= high]
    zero = [0.0] if low <= 0 <= high else []
    for stride in range(1, 400):
        chosen = sorted((v for v in decades if round(math.log10(abs(v))) % stride == 0), key=lambda v: -abs(v))
        if len(spaced(chosen, gap, zero)) == len(zero) + len(chosen):
            break
    rest = sorted((v for v in decades if v not in chosen), key=lambda v: -abs(v))
    kept = spaced(rest + [v for v in (1.0, -1.0) if low <= v <= high], gap, zero + chosen)
    if span < 5:
        between = [s * m * 10.0 ** k for k in range(0, 3) for m in (2, 5) for s in (1.0, -1.0)]
        kept = spaced(sorted((v for v in between if low <= v <= high), key=lambda v: -abs(v)), gap, kept)
    return sorted(kept)


class SpacedSymlogLocator(ticker.Locator):
    """signed_decade_ticks for the axis as drawn: labels at least LABEL_PX apart on screen."""

    LABEL_PX = {"x": 48.0, "y": 22.0}

    def __call__(self):
        low, high = sorted(self.axis.get_view_interval())
        box = self.axis.axes.get_window_extent()
        along = "x" if self.axis.axis_name == "x" else "y"
        length = max(box.width if along == "x" else box.height, 1.0)
        return signed_decade_ticks(low, high, min(self.LABEL_PX[along] / length, 0.5))


def decade_label(value, _position=None):
    """0, ±1, ±2, ±5, ±10, ±20, ±50, then ±10^k in mathtext (and 2 × 10^k, 5 × 10^k)."""
    if value == 0:
        return "0"
    sign = "−" if value < 0 else ""
    k = math.floor(math.log10(abs(value)) + 1e-9)
    mantissa = round(abs(value) / 10.0 ** k)
    if 0 <= k <= 1:
        return f"{sign}{mantissa * 10 ** k:d}"
    return f"{sign}$10^{{{k}}}$" if mantissa == 1 else f"{sign}${mantissa}\\cdot10^{{{k}}}$"


def needs_symlog(values, linear_within=SYMLOG_LINEAR_WITHIN):
    """Whether `values` reach beyond ±linear_within, where a symmetric-log axis pays off."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return bool(finite.size) and float(np.abs(finite).max()) > linear_within


def symlog_axis(ax, values, axis="x", linear_within=SYMLOG_LINEAR_WITHIN):
    """A symmetric-log axis (linear on [−1, 1]) over `values`, ticks at thinned decades only; a
    linear axis when `values` stay within ±linear_within (needs_symlog)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    if not needs_symlog(values, linear_within):
        linear_axis(ax, values, axis)
        return
    low, high = rounded_span(values)
    # A margin of SYMLOG_PAD of the axis at each end: a line at an end (log L = log 2 before the
    # loss falls) would otherwise run along the frame, out of sight.
    pad = SYMLOG_PAD * (symlog_position(high) - symlog_position(low))
    low, high = symlog_value(symlog_position(low) - pad), symlog_value(symlog_position(high) + pad)
    (ax.set_xscale if axis == "x" else ax.set_yscale)("symlog", **SYMLOG)
    target.set_major_locator(SpacedSymlogLocator())
    target.set_major_formatter(ticker.FuncFormatter(decade_label))
    target.set_minor_locator(ticker.NullLocator())
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)


def linear_axis(ax, values, axis="x"):
    """A linear axis over the finite `values` with matplotlib's own ticks."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.02 * (high - low) if high > low else 0.5
    (ax.set_xscale if axis == "x" else ax.set_yscale)("linear")
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low - pad, high + pad)


WIDEN_AT_MOST = 2.0  # an axis end moves out to the next decade only if that is at most this factor away


def to_decade(value):
    """±10^k just beyond `value` when |value| > 1 and 10^k is at most WIDEN_AT_MOST × |value|, else value."""
    if abs(value) <= 1:
        return value
    decade = 10.0 ** math.ceil(math.log10(abs(value)) - 1e-12)
    return math.copysign(decade, value) if decade <= WIDEN_AT_MOST * abs(value) else value


def rounded_span(values):
    """The finite range of `values`, its ends moved out to a nearby ±10^k (round ends, and a
    labelled tick at each end of a symmetric-log axis)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    low, high = to_decade(low), to_decade(high)
    return (low, high) if high > low else (low - 1.0, high + 1.0)


def log_ticks(low, high):
    """Tick values for a log axis on [low, high]: whole decades, with 2 and 5 × 10^k when fewer
    than three decades show, and evenly spaced values when the range is within one decade."""
    ticks = [v for v in decade_ticks(low, high) if low <= v <= high]
    if len(ticks) < 3:
        ticks = sorted(set(ticks + [m * v for v in decade_ticks(low / 10, high) for m in (2, 5) if low <= m * v <= high]))
    if len(ticks) < 2:
        ticks = [v for v in ticker.MaxNLocator(nbins=4).tick_values(low, high) if low <= v <= high and v > 0]
    return ticks


def tick_label(value, _position=None):
    """Decades in mathtext, 2 and 5 × 10^k likewise, any other value to three digits."""
    k = math.floor(math.log10(value) + 1e-9) if value > 0 else 0
    if value > 0 and round(value / 10.0 ** k, 9) in (1, 2, 5):
        return decade_label(value)
    return short(value)


def tick_labels(ticks):
    """tick_label of each tick (plain numbers when every tick lies in [0.01, 100): 0.5, 1, 2), or,
    where three digits would print two ticks alike (0.2805 and 0.281 both as 0.281), every tick
    with as many decimals as their spacing needs."""
    plain = all(0.01 <= v < 100 for v in ticks)
    labels = [short(float(v)) if plain else tick_label(v) for v in ticks]
    if len(set(labels)) == len(labels):
        return labels
    decimals = max(0, -math.floor(math.log10(float(np.min(np.diff(ticks))))))
    return [f"{v:.{decimals}f}" for v in ticks]


def log_axis(ax, values, axis="y", extra=()):
    """A log axis over the positive finite `values` (and `extra`, e.g. tolerances), with
    labelled ticks that never crowd (log_ticks) and no minor labels."""
    data = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in (values, *extra)] or [[]])
    data = data[np.isfinite(data) & (data > 0)]
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if data.size == 0:
        return
    low, high = data.min(), data.max()
    if high <= low * (1 + 1e-9):  # constant to rounding: a factor 2 either way, ticks at v/2, v, 2v
        low, high = low / 2, high * 2
    pad = (high / low) ** 0.04
    low, high = low / pad, high * pad
    target = ax.xaxis if axis == "x" else ax.yaxis
    ticks = sorted(log_ticks(low, high))
    target.set_major_locator(ticker.FixedLocator(ticks))
    target.set_major_formatter(ticker.FixedFormatter(tick_labels(ticks)))
    target.set_minor_formatter(ticker.NullFormatter())
    (ax.set_xlim if axis == "x" else ax.set_ylim)(low, high)


def log_t_is_symlog(log_t):
    """Whether the log-t axes of a run with these log t values are symmetric-log (else linear)."""
    return needs_symlog(log_t, LOG_T_LINEAR_WITHIN)


def log_t_axis(ax, log_t, reference=None):
    """The shared x axis of run panels: log t on a symmetric-log scale, or a linear one when the
    run (`reference`, by default `log_t` itself) stays within ±LOG_T_LINEAR_WITHIN."""
    if log_t_is_symlog(log_t if reference is None else reference):
        symlog_axis(ax, log_t, "x", linear_within=0.0)
    else:
        linear_axis(ax, log_t, "x")
    ax.set_xlabel("log t")


def value_ticks(ax, values, axis="x", min_gap=0.12):
    """Ticks at every given value (a swept parameter's), labelled to three digits where a label
    would not run into its neighbour: the ends first, then the others at least `min_gap` of the
    axis from every labelled one. Call after the axis scale and limits are set."""
    values = np.unique(np.asarray(values, dtype=float)[np.isfinite(values)])
    if values.size == 0:
        return
    scale = ax.get_xscale() if axis == "x" else ax.get_yscale()
    place = np.log10 if scale == "log" else (lambda v: np.asarray(v, dtype=float))
    spots = place(values)
    span = max(spots.max() - spots.min(), 1e-300)
    kept = []
    for i in [0, len(values) - 1] + list(range(1, len(values) - 1)):
        if all(abs(spots[i] - spots[k]) >= min_gap * span for k in kept):
            kept.append(i)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(ticker.FixedLocator(values))
    target.set_major_formatter(ticker.FixedFormatter([short(v) if i in kept else "" for i, v in enumerate(values)]))
    target.set_minor_locator(ticker.NullLocator())


def tolerance_line(ax, value, label, colour, style="--"):
    """A horizontal line at a stop tolerance or claim tolerance, with its rounded value in the legend."""
    if value is None or not np.isfinite(value) or (value <= 0 and ax.get_yscale() == "log"):
        return None
    return ax.axhline(value, color=colour, linestyle=style, linewidth=1.0, alpha=0.8, label=f"{label} = {short(value)}")


class TwinAwareLegend(Legend):
    """A legend whose loc="best" also avoids the lines of its axes' twins (matplotlib's looks at
    its own axes only, and may run a twin's line, such as the stable rank, through the legend)."""

    def __init__(self, parent, handles, labels, twins=(), **kwargs):
        self.twins = list(twins)
        super().__init__(parent, handles, labels, **kwargs)

    def _auto_legend_data(self):
        data = super()._auto_legend_data()
        if not (isinstance(data, tuple) and len(data) == 3 and isinstance(data[1], list)):
            return data  # a matplotlib whose private layout differs: its own choice stands
        bboxes, lines, offsets = data
        for twin in self.twins:
            lines += [line.get_transform().transform_path(line.get_path()) for line in twin.get_lines()]
        return bboxes, lines, offsets


def legend(ax, *more_axes, **kwargs):
    """One legend for `ax` and its twins (a twin's lines would otherwise be missing from it),
    drawn above the twins' lines and placed, with loc="best", away from them too."""
    handles, labels = ax.get_legend_handles_labels()
    for other in more_axes:
        h, l = other.get_legend_handles_labels()
        handles, labels = handles + h, labels + l
    if not handles:
        return
    kwargs.setdefault("fontsize", "small")
    kwargs.setdefault("framealpha", 0.85)
    if more_axes:  # twins are drawn after `ax`: lift `ax`, and its legend, above them
        ax.set_zorder(max(other.get_zorder() for other in more_axes) + 1)
        ax.patch.set_visible(False)
    ax.legend_ = TwinAwareLegend(ax, handles, labels, more_axes, **kwargs)
    ax.legend_._remove_method = ax._remove_legend


def note(ax, text):
    """A panel that has nothing to plot says why, in its middle."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize="medium", color="0.35", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def verdict_mark(passed):
    """✓ / ✗ / – and the colour of a verdict (None: not evaluated)."""
    if passed is None:
        return "–", UNRATED_COLOUR
    return ("✓", PASS_COLOUR) if passed else ("✗", FAIL_COLOUR)


def use_agg():
    """Renders without a display (the CLI and the tests)."""
    matplotlib.use("Agg")
