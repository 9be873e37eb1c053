#pragma once
/// \file model_run.hpp
/// A run whose claims need its model: the model rebuilt from the description the run carries
/// (problems/model_registry.hpp), and the small tools the per-paper claims share on it.
#include "analysis/verify/run_data.hpp"
#include "problems/model_registry.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <utility>

namespace kktflow {

class ModelRun {
 public:
  /// Rebuilds the model of `data` on its inputs. Throws std::invalid_argument when the model
  /// description is missing or malformed. `data` must outlive this.
  explicit ModelRun(const RunData& data);

  const RunData& data() const { return m_data; }
  Model& model() const { return *m_model; }
  /// A number among the model attributes; throws std::invalid_argument when it is missing.
  double number(const std::string& name) const;

 private:
  const RunData& m_data;
  std::unique_ptr<Model> m_model;
};

/// Layer `view` of the flat θ as a row-major matrix.
Eigen::Map<const RowMajorMatrix> layer_of(const Eigen::VectorXd& theta, const LayerView& view);

/// ∠(u, v) in radians.
double angle(const Eigen::VectorXd& u, const Eigen::VectorXd& v);

/// The margins q_i = y_i f(x_i; θ) of a scalar-output model.
Eigen::VectorXd margins_at(Model& model, const Eigen::VectorXd& y, const Eigen::VectorXd& theta);

/// Largest drift of `invariant` (a vector of conserved numbers) from its value at θ(0) over the
/// later snapshots and θ_T: (max change relative to ‖θ‖², max absolute change).
template <class Invariant>
std::pair<double, double> invariant_drift(const RunData& run, Invariant invariant) {
  const auto start = invariant(run.snapshots.front());
  double worst = 0, worst_abs = 0;
  auto consider = [&](const Eigen::VectorXd& theta) {
    const double change = (invariant(theta) - start).cwiseAbs().maxCoeff();
    worst = std::max(worst, change / theta.squaredNorm());
    worst_abs = std::max(worst_abs, change);
  };
  for (std::size_t k = 1; k < run.snapshots.size(); ++k) consider(run.snapshots[k]);
  consider(run.theta_final);
  return {worst, worst_abs};
}

}  // namespace kktflow
