"""Every model kind's run figure renders, is not blank, and shows what a referee looks for: the
claim figures, the stop tolerances as lines, switch events as a rate, tick labels that do not
overlap and legends with rounded numbers."""
import tomllib

import h5py
import numpy as np
import pytest
from matplotlib.patches import StepPatch

import kktflow
from conftest import KINDS, needs_kind
from figure_checks import assert_not_blank, assert_tick_labels_apart, horizontal_at, labels, panel, unrounded

CLAIM_FIGURE = {  # a legend label that shows the kind's claim figure
    "leaky2_fixed_outer": "σ3/σ1",
    "two_layer_leaky": "a_j² − ‖w_j‖²",
    "deep": "srank W2 − 1",
    "relu2": "‖w_j‖² − ‖v_j‖²",
    "linear": "support vectors",
}


@pytest.fixture(scope="module")
def figures(run_of):
    made = {}
    for kind in KINDS:
        with kktflow.open_run(run_of(kind)) as run:
            made[kind] = (kktflow.plot_run(run, run_of(kind)), run_of(kind))
    return made


@pytest.mark.parametrize("kind", KINDS)
def test_run_figure_is_not_blank_and_shows_the_claim_figure(figures, kind):
    fig, _ = figures[kind]
    assert_not_blank(fig, (1200, 800))
    assert any(CLAIM_FIGURE[kind] in label for label in labels(fig)), labels(fig)
    assert "kktflow verify" in " ".join(ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center"))


@pytest.mark.parametrize("kind", KINDS)
def test_tick_labels_never_overlap(figures, kind):
    assert_tick_labels_apart(figures[kind][0])


@pytest.mark.parametrize("kind", KINDS)
def test_legends_round_their_numbers(figures, kind):
    for label in labels(figures[kind][0]):
        assert not unrounded(label), label


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "relu2"])
def test_stop_tolerances_are_lines(figures, kind):
    fig, path = figures[kind]
    with h5py.File(path, "r") as f:
        stop = tomllib.loads(f.attrs["config"])["stop"]
    kkt = panel(fig, "KKT figures")
    for key in ("kkt_eps", "one_minus_beta"):
        assert horizontal_at(kkt, stop[key]), key


def test_square_loss_run_marks_its_stop_loss(figures):
    needs_kind("relu2")
    fig, path = figures["relu2"]
    with h5py.File(path, "r") as f:
        stop_loss = tomllib.loads(f.attrs["config"])["stop"]["loss"]
    assert horizontal_at(panel(fig, "training loss"), np.log(stop_loss))


def test_switches_are_a_rate_whose_integral_is_their_count(figures):
    needs_kind("leaky2_fixed_outer")
    fig, path = figures["leaky2_fixed_outer"]
    with h5py.File(path, "r") as f:
        crossings = int(np.sum(np.abs(f["events/new_sign"][()]) == 1))
    steps = [p for p in panel(fig, "activation switches").patches if isinstance(p, StepPatch)]
    data = steps[0].get_data()
    assert np.nansum(np.asarray(data.values) * np.diff(data.edges)) == pytest.approx(crossings)
