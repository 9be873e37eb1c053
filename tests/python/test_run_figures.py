"""Every model kind's run figure renders, is not blank, and shows what a referee looks for: the
claim figures, the stop tolerances as lines (visible where two coincide), switch events as a rate
over whole recorded rows, tick labels that do not overlap, legends with rounded numbers drawn above
twin axes, and a log-t axis that suits the run's length."""
import tomllib

import h5py
import numpy as np
import pytest
from matplotlib.colors import to_rgb
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


def pixels_along(fig, ax, y):
    """The rendered pixels (RGB in [0, 1]) of the row at data height `y` across `ax`."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0
    x0, x1 = ax.get_window_extent().intervalx
    row = image.shape[0] - int(round(ax.transData.transform((ax.get_xlim()[0], y))[1]))
    return image[row, int(x0):int(x1)]


def test_stop_lines_at_one_value_show_both_colours(figures):
    """The linear run stops at ε_KKT ≤ 1e-6 and 1 − β ≤ 1e-6: both lines must stay visible."""
    needs_kind("linear")
    fig, path = figures["linear"]
    with h5py.File(path, "r") as f:
        stop = tomllib.loads(f.attrs["config"])["stop"]
    assert stop["kkt_eps"] == stop["one_minus_beta"]
    kkt = panel(fig, "KKT figures")
    row = pixels_along(fig, kkt, stop["kkt_eps"])
    palette = np.array([to_rgb(c) for c in ("C3", "C0", "white")])  # ε_KKT's, 1 − β's, the background
    distance = np.linalg.norm(row[:, None, :] - palette[None, :, :], axis=2)
    nearest = np.where(distance.min(axis=1) < 0.25, distance.argmin(axis=1), -1)
    for k, colour in enumerate(("C3", "C0")):
        assert np.sum(nearest == k) >= 10, f"{colour}: {np.sum(nearest == k)} pixels along the stop line"


@pytest.mark.parametrize("kind", KINDS)
def test_legends_are_drawn_above_twin_axes(figures, kind):
    fig, _ = figures[kind]
    for ax in (a for a in fig.axes if a.get_legend()):
        twins = [o for o in fig.axes if o is not ax and o.get_position().bounds == ax.get_position().bounds]
        assert all(ax.get_zorder() > t.get_zorder() for t in twins), ax.get_title()


def test_switch_rate_bins_hold_whole_trajectory_rows(figures):
    """Bins end at recorded rows: a bin narrower than a step would sit empty between steps."""
    needs_kind("leaky2_fixed_outer")
    fig, path = figures["leaky2_fixed_outer"]
    with kktflow.open_run(path) as run:
        rows = run["log_t"].values
    steps = [p for p in panel(fig, "activation switches").patches if isinstance(p, StepPatch)]
    edges = np.asarray(steps[0].get_data().edges)
    assert edges.size > 2 and np.all(np.isin(edges, rows)), edges


@pytest.mark.parametrize("kind", KINDS)
def test_log_t_axes_are_linear_for_a_short_run_and_symmetric_log_otherwise(figures, kind):
    fig, path = figures[kind]
    with kktflow.open_run(path) as run:
        short_run = float(np.abs(run["log_t"].values).max()) <= 30
    scales = {ax.get_xscale() for ax in fig.axes if ax.get_xlabel() == "log t"}
    assert scales == ({"linear"} if short_run else {"symlog"}), scales
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else fig._suptitle.get_text()  # matplotlib < 3.8
    assert ("symmetric-log" in title) != short_run
