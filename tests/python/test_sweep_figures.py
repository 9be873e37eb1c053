"""Grid, list and continuation sweep figures: not blank, the swept keys on labelled axes, the
verdicts explained, rounded legends."""
import re

from matplotlib.patches import Polygon

import kktflow
from figure_checks import assert_not_blank, assert_tick_labels_apart, labels, unrounded


def test_grid_sweep_figure_puts_the_swept_keys_on_axes(sweep_of):
    fig = kktflow.plot_sweep(sweep_of("grid"))
    assert_not_blank(fig, (1200, 800))
    assert_tick_labels_apart(fig)
    assert any("data.d" in ax.get_xlabel() for ax in fig.axes)
    assert any("data.mean_norm" in ax.get_ylabel() for ax in fig.axes)
    assert any("fraction of cases that pass" in ax.get_xlabel() for ax in fig.axes)  # the verdict colour bar
    cells = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(re.fullmatch(r"\d/\d", c) for c in cells)


def test_list_sweep_figure_labels_cases_with_rounded_values(sweep_of):
    fig = kktflow.plot_sweep(sweep_of("list"))
    assert_not_blank(fig, (1200, 800))
    assert any("data.d = 50" in label for label in labels(fig))
    for label in labels(fig):
        assert not unrounded(label), label


def test_continuation_figure_shades_the_located_change(sweep_of):
    fig = kktflow.plot_sweep(sweep_of("continuation"))
    assert_not_blank(fig, (1200, 800))
    assert_tick_labels_apart(fig)
    bands = [p for ax in fig.axes for p in ax.patches if isinstance(p, Polygon) and p.get_alpha()]
    assert bands, "no shaded bracket"
    assert any("verdicts" in ax.get_title() for ax in fig.axes)
