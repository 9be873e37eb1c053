"""Every model kind's --snapshots figure renders and is not blank."""
import pytest

import kktflow
from conftest import KINDS
from figure_checks import assert_not_blank, assert_tick_labels_apart


@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_figure_is_not_blank(run_of, kind):
    fig = kktflow.plot_snapshots(run_of(kind))
    assert_not_blank(fig, (700, 700), inked_at_least=0.01)
    assert_tick_labels_apart(fig)
