#pragma once
/// \file data_selection.hpp
/// From a labelled table (data_loaders.hpp) to the ±1 data set a run trains on, recording how:
///  1. labels → ±1: `data.classes = [a, b]` keeps the samples labelled a or b (a is +1 unless
///     `data.positive` names b); without classes the file must hold exactly two labels, and
///     `data.positive` names the +1 one (it may be left out when the labels are −1 and +1);
///  2. `data.per_class` samples of each class (0: all), the first ones in file order
///     (`data.select = "first"`) or a seeded sample (`"seeded"`, data.seed), kept in file order;
///  3. `data.normalize`: "none", "unit_norm" (x_i / ‖x_i‖) or "standardize" (each feature
///     centred and divided by its standard deviation over the selected samples; a constant
///     feature becomes 0).
/// Refused, with a message naming the key, the file and the samples: non-finite values (in the
/// selected samples; the others never reach the run), one
/// class only, a zero sample (a homogeneous net gives it output 0, so it is never classified),
/// and the same point with both labels (after normalisation, which maps x and c·x, c > 0, to one
/// point; a homogeneous net cannot separate them either).
/// The data set's params record the format, each file's path and SHA-256, and the selection:
/// classes, positive, per_class, select, seed, normalize, the rows taken ("rows", as ranges of
/// 0-based file rows) and the number of samples in the file.
#include "data_loaders.hpp"
#include "dataset.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

/// The data set the selection keys of `spec` make of `table`, with its provenance in params.
/// Throws std::invalid_argument naming the key and the offending samples.
Dataset prepare_dataset(const LabelledTable& table, const DatasetSpec& spec);

/// 0-based indices as ranges: {0, 1, 2, 5, 7, 8} → "0-2,5,7-8".
std::string index_ranges(const std::vector<Eigen::Index>& indices);

}  // namespace kktflow
