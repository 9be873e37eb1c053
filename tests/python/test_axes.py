"""The axes helpers on the ranges that broke the old figures: log t from −7 to 4.9e9 (the demo)
on a symmetric-log axis, and a log axis over less than a decade."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

from figure_checks import assert_tick_labels_apart  # noqa: E402
from kktflow.plot.style import log_axis, log_t_axis, short  # noqa: E402

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
