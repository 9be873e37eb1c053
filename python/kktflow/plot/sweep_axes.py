"""How a sweep's swept parameters become axes: which key goes along x, which one separates
lines, which ones are replicates (seeds) to aggregate over, and ticks at the swept values."""
import math

import numpy as np

from .style import short, value_ticks

LOG_SPAN = 20.0  # a positive parameter spanning this factor or more goes on a log axis


def is_replicate(key):
    """Seeds replicate a case; they are aggregated over, never put on an axis."""
    return key == "seed" or key.endswith(".seed")


def roles(frame):
    """(primary, secondary, replicates): the swept key with most distinct values goes along x,
    the next one separates lines or heatmap rows; seeds and keys with one value are replicates."""
    keys = list(frame.attrs.get("keys", []))
    varied = [k for k in keys if not is_replicate(k) and k in frame and frame[k].nunique() > 1]
    varied.sort(key=lambda k: -frame[k].nunique())
    primary = varied[0] if varied else None
    secondary = varied[1] if len(varied) > 1 else None
    replicates = [k for k in keys if k not in (primary, secondary)]
    return primary, secondary, replicates


def numeric(values):
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def positions(frame, key):
    """x position of each case along `key`: the value itself for numbers, else its rank among
    the distinct values (a categorical axis)."""
    values = list(frame[key])
    if numeric(values):
        return np.asarray(values, dtype=float)
    order = sorted(set(map(str, values)))
    return np.array([order.index(str(v)) for v in values], dtype=float)


def parameter_axis(ax, frame, key):
    """x axis along a swept key: labelled with the key, ticks at the swept values (rounded),
    logarithmic when a positive key spans LOG_SPAN or more."""
    values = list(frame[key])
    distinct = sorted(set(values), key=lambda v: (str(type(v)), v)) if numeric(values) else sorted(set(map(str, values)))
    if numeric(values):
        numbers = np.asarray(distinct, dtype=float)
        if numbers.min() > 0 and numbers.max() / numbers.min() >= LOG_SPAN:
            ax.set_xscale("log")
            ax.set_xlim(numbers.min() / 1.6, numbers.max() * 1.6)
        value_ticks(ax, numbers)
    else:
        ax.set_xticks(range(len(distinct)), distinct)
    ax.set_xlabel(f"{key} (swept)")


def series_label(key, value):
    return f"{key} = {short(value)}"


def geometric_mean(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.mean(np.log(values)))) if values.size else math.nan
