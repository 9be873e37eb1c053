"""θ split into its layers, each a labelled array.

A run file stores θ flat: layer after layer, each layer's matrix in row-major order, with the
layer names and shapes as attributes of /snapshots/theta (`layer_names`; `layer_shapes`, either
flat `rows0, cols0, rows1, cols1, …` or one row per layer). This module names each layer's axes
after what they index, so that W of the Frei net is an (unit × input) array:

- `input`: the data's features (the columns of /data/X), the input of the first layer;
- `unit` for the hidden units of a net with one hidden layer (Frei, Lyu, Timor), `unit1`,
  `unit2`, … for the hidden layers of a deep net (layer l maps `unit{l-1}` to `unit{l}`);
- `output`: the outputs of a vector-valued net (Timor's V is output × unit).

A scalar-output net's last layer (one row: `a` of the two-layer net, the last W of a deep net,
w of the linear model) is a vector over its input axis.
"""
from dataclasses import dataclass

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from ._hdf5 import FormatError, texts

# Kinds whose every stored layer maps into hidden units (the outer layer is fixed, in /model/a).
FIXED_OUTER_KINDS = ("leaky2_fixed_outer",)


@dataclass(frozen=True)
class Layer:
    """One layer of θ: its name, matrix shape, offset into flat θ and the names of its axes."""

    name: str
    rows: int
    cols: int
    offset: int
    dims: tuple

    @property
    def size(self):
        return self.rows * self.cols

    @property
    def shape(self):
        """The array's shape along `dims` (a vector when the layer has one row and one dim)."""
        return (self.cols,) if len(self.dims) == 1 else (self.rows, self.cols)

    def of(self, theta):
        """This layer of a flat θ (or of the last axis of a stack of them), shaped along `dims`."""
        return self.shaped(np.asarray(theta)[..., self.offset:self.offset + self.size])

    def shaped(self, block):
        """This layer's entries (the last axis of `block`, already cut out of θ), shaped along `dims`."""
        return block.reshape(block.shape[:-1] + self.shape)


def layer_shapes(raw, count):
    """(rows, cols) per layer from the `layer_shapes` attribute, flat or one row per layer."""
    numbers = np.asarray(raw, dtype=np.int64).ravel()
    if numbers.size != 2 * count:
        raise FormatError(f"layer_shapes holds {numbers.size} numbers; {count} layers need {2 * count}")
    return [(int(r), int(c)) for r, c in numbers.reshape(count, 2)]


def axis_names(kind, shapes):
    """The dims of each layer (see the module docstring), from the model kind and the shapes."""
    hidden = len(shapes) if kind in FIXED_OUTER_KINDS else len(shapes) - 1

    def unit(l):
        return "unit" if hidden == 1 else f"unit{l + 1}"

    names = []
    for l, (rows, _) in enumerate(shapes):
        cols_dim = "input" if l == 0 else unit(l - 1)
        if l < hidden:
            names.append((unit(l), cols_dim))
        elif rows == 1:
            names.append((cols_dim,))
        else:
            names.append(("output", cols_dim))
    return names


def read_layers(theta_dataset, kind):
    """The layers of θ described by the attributes of a /snapshots/theta dataset."""
    names = texts(theta_dataset.attrs["layer_names"])
    shapes = layer_shapes(theta_dataset.attrs["layer_shapes"], len(names))
    layers, offset = [], 0
    for name, (rows, cols), dims in zip(names, shapes, axis_names(kind, shapes)):
        layers.append(Layer(name, rows, cols, offset, dims))
        offset += rows * cols
    width = theta_dataset.shape[-1]
    if offset != width:
        raise FormatError(f"layer_shapes add up to {offset} parameters, but θ has {width}")
    return layers


class SnapshotLayerArray(BackendArray):
    """One layer of every snapshot, read from the file only when indexed (θ snapshots of a large
    run are gigabytes; a plot needs one or two of them)."""

    def __init__(self, theta_dataset, layer, snapshots):
        self.theta = theta_dataset
        self.layer = layer
        self.shape = (snapshots,) + layer.shape
        self.dtype = np.dtype(theta_dataset.dtype)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key):
        rows = self.theta[key[0], self.layer.offset:self.layer.offset + self.layer.size]
        return self.layer.shaped(rows)[(Ellipsis,) + tuple(key[1:])]


def snapshot_variables(theta_dataset, layers, snapshots):
    """One lazily read DataArray per layer, dims ('snapshot',) + the layer's dims."""
    out = {}
    for layer in layers:
        lazy = indexing.LazilyIndexedArray(SnapshotLayerArray(theta_dataset, layer, snapshots))
        out[layer.name] = xr.Variable(("snapshot",) + layer.dims, lazy, attrs={
            "long_name": f"layer {layer.name} of θ at each snapshot", "units": "1"})
    return out


def flat_variables(theta, layers, prefix, long_name):
    """One DataArray per layer of a single flat θ (final or polished)."""
    return {f"{prefix}_{layer.name}": xr.Variable(layer.dims, layer.of(theta), attrs={
        "long_name": f"layer {layer.name} of {long_name}", "units": "1"}) for layer in layers}
