#pragma once
/// \file svm.hpp
/// Hard-margin linear SVM without bias (the linear predictors of Frei et al. 2023 and Lyu et al.
/// 2021 have none):
///
///   primal  min ½‖w‖²  s.t.  y_i⟨w, x_i⟩ ≥ 1,
///   dual    max Σα_i − ½ αᵀQα,  α ≥ 0,  Q_ik = y_i y_k ⟨x_i, x_k⟩,   w* = Σ α_i y_i x_i,
///
/// solved exactly (finite active-set method, cone_qp.hpp) and checked against the KKT conditions.
/// γ_lin = 1/‖w*‖ is the max-margin of unit-norm linear predictors, min_i y_i⟨w, x_i⟩/‖w‖.
#include <Eigen/Dense>

namespace kktflow {

struct LinearSvm {
  Eigen::VectorXd w;      ///< w*, d
  Eigen::VectorXd alpha;  ///< dual variables, n
  double margin = 0;      ///< γ_lin = 1/‖w*‖
  /// KKT residual, scale-free: max of primal infeasibility max_i (1 − y_i⟨w, x_i⟩)₊ and
  /// complementarity max_i α_i |y_i⟨w, x_i⟩ − 1| / max_i α_i (dual feasibility α ≥ 0 and
  /// stationarity w = Σα_i y_i x_i hold by construction).
  double kkt_residual = 0;
  bool separable = false;  ///< false: the dual is unbounded (no w has y_i⟨w, x_i⟩ > 0 for all i)
  bool converged = false;
};

/// X is n × d (one sample per row), y holds ±1.
LinearSvm hard_margin_svm(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y);

/// min_i y_i⟨v, x_i⟩ / ‖v‖: the normalized margin of the linear predictor v.
double linear_margin(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                     const Eigen::Ref<const Eigen::VectorXd>& v);

}  // namespace kktflow
