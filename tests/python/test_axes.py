"""The axes helpers on ranges that are hard to label: log t from −7 to 4.9e9 (the demo)
on a symmetric-log axis, log t of a short run, log axes over less than a decade or of a constant,
and log L that never leaves ±10."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

from figure_checks import assert_tick_labels_apart  # noqa: E402
from kktflow.plot.style import log_axis, log_t_axis, log_t_is_symlog, short, symlog_axis  # noqa: E402

DEMO_LOG_T = np.concatenate([np.linspace(-7, 1, 50), np.geomspace(1, 4.94e9, 300)])
PANEL_INCHES = (3.6, 2.6)  # one panel of the 2 × 3 run figure


def panel():
    fig, ax = plt.subplots(figsize=PANEL_INCHES, dpi=100, layout="constrained")
    ax.plot(DEMO_LOG_T, np.arange(DEMO_LOG_T.size))
    return fig, ax


def test_symlog_log_t_ticks_do_not_overlap_over_ten_decades():
    fig, ax = panel()
    log_t_axis(ax, DEMO_LOG_T)
    assert_tick_labels_apart(fig)
    visible = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(visible) >= 4, visible


def test_the_overlap_check_catches_matplotlib_s_own_symlog_ticks():
    """The check above can fail: matplotlib's default ticks on the same axis collide."""
    fig, ax = panel()
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
    with pytest.raises(AssertionError, match="overlap"):
        assert_tick_labels_apart(fig)


def test_log_axis_within_one_decade_still_labels_two_ticks():
    fig, ax = panel()
    values = np.array([1.14, 1.5, 6.9])
    ax.plot([0, 1, 2], values)
    log_axis(ax, values)
    fig.canvas.draw()
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) >= 2
    assert_tick_labels_apart(fig)


@pytest.mark.parametrize("value, text", [(0.022360679774997897, "0.0224"), (1e-10, "1e-10"), (4.86e9, "4.86e9"),
                                         (2531, "2531"), (float("inf"), "∞")])
def test_short_rounds_to_three_significant_digits(value, text):
    assert short(value) == text


def labelled(axis):
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


@pytest.mark.parametrize("values", [np.ones(11), 1 + 1e-15 * np.arange(11)], ids=["constant", "constant_to_rounding"])
def test_log_axis_of_a_constant_labels_ticks_around_it(values):
    """A continuation's stable rank of 1 in every case: more than the single tick "1"."""
    fig, ax = panel()
    ax.plot(np.arange(values.size), values)
    log_axis(ax, values)
    fig.canvas.draw()
    assert labelled(ax.yaxis) == ["0.5", "1", "2"]


def test_log_axis_ticks_closer_than_three_digits_get_distinct_labels():
    """‖θ‖ from 0.28097 to 0.28158 (a run cut short): no two ticks both read 0.281."""
    fig, ax = panel()
    values = np.linspace(0.28097, 0.28158, 8)
    ax.plot(np.arange(values.size), values)
    log_axis(ax, values)
    fig.canvas.draw()
    texts = labelled(ax.yaxis)
    assert len(texts) >= 2 and len(set(texts)) == len(texts), texts
    assert_tick_labels_apart(fig)


def test_symlog_axis_within_ten_is_linear_and_labelled():
    """log L from −0.69 to −0.72: a symmetric-log axis would have no decade to label."""
    fig, ax = panel()
    values = np.linspace(-0.6931, -0.7205, 8)
    ax.plot(np.arange(values.size), values)
    symlog_axis(ax, values, "y")
    fig.canvas.draw()
    assert ax.get_yscale() == "linear"
    assert len(labelled(ax.yaxis)) >= 3


def test_log_t_of_a_short_run_is_linear_with_readable_ticks():
    """relu2 from log t = −7 to 3.9: a symmetric-log axis would squeeze everything after log t = 1
    into its last sixth."""
    fig, ax = panel()
    log_t = np.linspace(-7, 3.87, 40)
    ax.plot(log_t, log_t)
    log_t_axis(ax, log_t)
    fig.canvas.draw()
    assert ax.get_xscale() == "linear"
    assert len(labelled(ax.xaxis)) >= 4
    assert_tick_labels_apart(fig)
    assert log_t_is_symlog(DEMO_LOG_T) and not log_t_is_symlog(log_t)
