#pragma once
/// \file dataset.hpp
/// Binary classification datasets (x_i, y_i), x_i ∈ R^d, y_i ∈ {−1, +1}, all seeded.
///
/// Generators and the settings they serve:
///  - gaussian:   x_i ~ N(0, I_d); with d ≫ n nearly orthogonal (Frei et al. 2023, §5).
///  - mixture:    x_i = y_i μ + ξ_i, ξ_i ~ N(0, σ² I_d), ‖μ‖ = mean_norm.
///  - orthogonal: x_i = r e_{π(i)}, exactly orthogonal and of equal norm r (one-step oracle, Frei §4).
///  - symmetric:  pairs (x, y) and (−x, −y), x ~ N(0, I_d) (Lyu, Li, Wang, Arora 2021).
///  - timor2023:  n = d = 2, x1 = (1, 0.99)/‖·‖ (y = +1), x2 = (−1, 0.99)/‖·‖ (y = −1); a two-output
///                model reads the labels as e1, e2 (Timor, Vardi, Shamir 2023, §3.2).
///  - shifted_triple: n = 3, d = 2, x1 = (1, 0) (y = +1), x2 = (−1, 0) (y = −1), x3 = (shift, 1)
///                (y = +1): a family whose hard-margin SVM changes its support set at shift = 1
///                (ours, for continuation): w* = (1, 0) with support {x1, x2} for shift ≥ 1, and
///                w* = (1, 1 − shift) with support {x1, x2, x3} for shift < 1 (all three
///                multipliers > 0 there: λ3 = 1 − shift, λ1 + λ2 = 1 − shift(1 − shift)).
///  - lyu2021_fragile: n = 6, d = 2, ours (data/configs/lyu2021_fragile.toml says why): P1 = (1, 0.1),
///                P2 = (−1, 0.1) (y = +1); M1 = (1 − s)(−P1) + s N, M2 = (1 − s)(−P2) + s N with
///                N = (0, −0.15) (y = −1); Q = (0, 4) (y = +1) and −Q (y = −1); s = shift ∈ [0, 1].
///                At s = 0 the data are symmetric (Lyu et al. 2021, Thm 3.2 applies); at s = 1 both
///                mirrors sit at N, and gradient flow from small init ends at a linear net whose
///                margin is below the optimum.
/// Labels are balanced (first ⌈n/2⌉ are +1 after a seeded shuffle) unless a file gives them.
/// With unit_norm every generated x_i is rescaled to the unit sphere (Lyu et al. 2021 take ‖x_i‖ ≤ 1).
#include <Eigen/Dense>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace kktflow {

struct Dataset {
  Eigen::MatrixXd X;                          ///< n × d, one sample per row
  Eigen::VectorXd y;                          ///< n labels in {−1, +1}
  std::string source;                         ///< generator name or file path
  std::map<std::string, std::string> params;  ///< generator parameters, as text

  Eigen::Index n() const { return X.rows(); }
  Eigen::Index d() const { return X.cols(); }
};

/// What to generate or load; `kind` is one of gaussian, mixture, orthogonal, symmetric, timor2023,
/// shifted_triple, lyu2021_fragile (generated), or file, csv, idx, npy, hdf5 (read: data_loaders.hpp,
/// then data_selection.hpp).
struct DatasetSpec {
  std::string kind = "gaussian";
  Eigen::Index n = 50;
  Eigen::Index d = 2000;
  std::uint64_t seed = 0;
  double scale = 1.0;      ///< gaussian/symmetric: x ~ N(0, scale² I); orthogonal: ‖x_i‖ = scale
  double mean_norm = 1.0;  ///< mixture: ‖μ‖
  double noise = 1.0;      ///< mixture: σ
  double shift = 1.0;      ///< shifted_triple: the first coordinate of x3; lyu2021_fragile: s
  bool unit_norm = false;  ///< generated kinds: rescale every x_i to ‖x_i‖ = 1 (keeps symmetric data symmetric)
  std::string path;        ///< the data file (csv, idx images, npy X, npz archive, HDF5 via analysis/io/data_file.hpp)
  // Read kinds only (data_loaders.hpp, data_selection.hpp).
  std::string labels;                ///< idx, npy: the labels file
  std::string label_column;          ///< csv: the header's label column ("": the first column)
  std::string x_key = "X";           ///< npz: the samples' member (X.npy)
  std::string y_key = "y";           ///< npz: the labels' member (y.npy)
  std::vector<std::string> classes;  ///< two labels to keep, or empty (the file holds two)
  std::string positive;              ///< the label that is +1 ("": classes[0], or 1 of labels ±1)
  Eigen::Index per_class = 0;        ///< samples per class (0: all)
  std::string select = "first";      ///< first, seeded (by seed)
  std::string normalize = "none";    ///< none, unit_norm, standardize
  /// Compressed files (gzip, deflated npz members) decompressing past this many bytes are refused
  /// once they do; the run sets it from its memory budget (app/memory_estimate.hpp).
  double max_decoded_bytes = std::numeric_limits<double>::infinity();

  /// True for the kinds read from a file.
  bool from_file() const { return kind == "file" || kind == "csv" || kind == "idx" || kind == "npy" || kind == "hdf5"; }
};

/// Throws std::invalid_argument naming the field, its value and the allowed range.
void validate(const DatasetSpec& spec);

/// The spec of n Gaussian samples x ~ N(0, I_d) with balanced labels.
inline DatasetSpec gaussian_spec(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
  DatasetSpec spec;
  spec.n = n;
  spec.d = d;
  spec.seed = seed;
  return spec;
}

/// Generates a dataset, or reads one (every read kind but HDF5, which analysis/io/data_file.hpp
/// reads into a table for prepare_dataset).
Dataset make_dataset(const DatasetSpec& spec);

}  // namespace kktflow
