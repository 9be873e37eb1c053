"""Helpers the figure tests share: render to PNG, check for blank figures, overlapping tick
labels, unrounded numbers, tolerance lines."""
import io
import itertools
import re

import matplotlib
import numpy as np

matplotlib.use("Agg")
from matplotlib import image as mpimg  # noqa: E402

NUMBER = re.compile(r"\d*\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+")  # decimals and exponents, not counts
SIGNIFICANT_DIGITS = 4


def pixels(fig):
    """The figure as an RGB array, through a PNG as `kktflow plot` writes it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    buffer.seek(0)
    return mpimg.imread(buffer)[..., :3]


def unrounded(label):
    """The numbers in `label` written with more than SIGNIFICANT_DIGITS digits (0.022360679774997897)."""
    return [n for n in NUMBER.findall(label)
            if len(n.split("e")[0].replace(".", "").lstrip("0")) > SIGNIFICANT_DIGITS]


def assert_not_blank(fig, size, inked_at_least=0.05):
    assert_image_not_blank(pixels(fig), size, inked_at_least)


def assert_png_not_blank(path, size, inked_at_least=0.05):
    """The PNG file at `path` (as `kktflow plot` wrote it) has `size` (width, height) and is not blank."""
    assert_image_not_blank(mpimg.imread(path)[..., :3], size, inked_at_least)


def assert_image_not_blank(image, size, inked_at_least):
    """`image` (RGB in [0, 1]) is `size` (width, height) px, at least `inked_at_least` of it not
    white, in more than 50 colours (a figure, not a few flat areas)."""
    assert image.shape[1::-1] == size, f"{image.shape[1]} × {image.shape[0]} px, expected {size[0]} × {size[1]}"
    inked = np.mean(np.any(image < 0.9, axis=2))
    assert inked > inked_at_least, f"only {inked:.1%} of the pixels are not white"
    assert len(np.unique((image * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def labels(fig):
    return [text.get_text() for ax in fig.axes if ax.get_legend() for text in ax.get_legend().get_texts()]


def assert_tick_labels_apart(fig):
    """No two visible tick labels of one axis overlap on the rendered figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text() and ax.get_visible()]
            for a, b in itertools.combinations(boxes, 2):
                assert not a.overlaps(b), f"tick labels overlap on {ax.get_title()!r}: {a} and {b}"


def panel(fig, title_part):
    return next(ax for ax in fig.axes if title_part in ax.get_title())


def horizontal_at(ax, value):
    """Whether `ax` holds a horizontal line at `value` (a tolerance line)."""
    for line in ax.get_lines():
        y = np.ravel(np.ma.filled(np.ma.asarray(line.get_ydata(), dtype=float), np.nan))
        if y.size and np.all(y == y[0]) and np.isclose(y[0], value):
            return True
    return False


