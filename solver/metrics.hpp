#pragma once
/// \file metrics.hpp
/// Direction metrics the stop rules and the trajectory need (Lyu & Li 2020, ICLR, §4–5):
///   normalized margin  q_min / ‖θ‖^L,
///   smoothed margin    ℓ^{-1}(nL) / ‖θ‖^L (non-decreasing once L < ℓ(0)/n, their Lemma 5.1),
///   alignment          β = cos∠(θ, −∇L) = L Σ w_i q_i / (‖θ‖ √(wᵀKw)),   K_ik = ⟨∇q_i, ∇q_k⟩,
///                      using Euler's identity ⟨θ, ∇q_i⟩ = L q_i for L-homogeneous q_i; where the
///                      margins' rounding exceeds 1, w is the slow manifold's (slow_manifold.hpp),
///   (ε, δ)-KKT         of min ½‖θ‖² s.t. q_i ≥ 1 at θ̃ = θ / q_min^{1/L} (their Def. 4.2):
///                      λ = argmin_{λ≥0} ‖θ̃ − Σ λ_i ∇q_i(θ̃)‖ (NNLS), ε = that norm, formed
///                      explicitly in θ-space (no cancellation), δ = Σ λ_i (q_i(θ̃) − 1),
///   stable rank        ‖W‖_F² / ‖W‖₂² and the top singular values of the first layer.
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"
#include "problems/model.hpp"
#include "record.hpp"
#include "row_metrics.hpp"

namespace kktflow {

/// Singular values of W, descending (LAPACK dgesvd without vectors; absolute accuracy ~ u‖W‖).
Eigen::VectorXd singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W);

/// The k largest singular values of W (descending) and ‖W‖_F², what a trajectory row needs.
struct TopSingularValues {
  Eigen::VectorXd sigma;
  double frobenius2 = 0;
};

/// Where the short side r = min(rows, cols) exceeds 256 (ours), the k largest eigenpairs of the
/// r × r Gram (a symmetric rank-r update, then LAPACK dsyevr on those k only): 3-4× faster than
/// dgesvd at r = 1000. The Gram's eigenvalues carry an absolute error ~ u σ₁², so σ_i a relative
/// error ~ u σ₁²/(2σ_i²); values with that ≤ 1e-9 (ours, σ_i/σ₁ ≳ 3.3e-4) are taken as they are.
/// Past them (late in a run σ3/σ1 falls like 1/log t) the leading p are deflated at a gap
/// λ_{p+1} ≤ λ_p/4 and the rest taken the same way from W with those singular vectors projected
/// out, accurate to ~u σ₁ (σ₁/σ_p)² absolutely, as dgesvd is to ~u σ₁. The vectors come from a
/// randomized range finder where its coupling bound certifies them (metrics.cpp), else from the
/// Gram; where no such gap exists, and for smaller matrices, dgesvd.
TopSingularValues top_singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W, Eigen::Index k);

/// row.sigma (the k_top largest singular values, zero-padded) and row.stable_rank of the layer
/// `layer` inside θ_c.
void first_layer_spectrum(const Eigen::VectorXd& theta_c, const LayerView& layer, int k_top, Record& row);

/// The rows of a margin loss's flow.
class MetricsEvaluator final : public RowMetrics {
 public:
  /// rel_tol: the relative tolerance of the steps that reach the states it is given (0: states
  /// exact to rounding); from rel_tol q_min ≥ 1 on, β is taken on the slow manifold
  /// (slow_manifold_resolution).
  MetricsEvaluator(MarginSystem& margins, const MarginLoss& loss, LayerView first_layer, int k_top, double rel_tol = 0);

  /// Fills the metric fields of `row` at `state` and leaves θ's isometric image θ_c
  /// (MarginSystem::lift_compact) in `theta_c`. Calls margins/ascent on the margin system (so
  /// sliding slopes are current).
  void evaluate(const Eigen::VectorXd& state, Record& row, Eigen::VectorXd& theta_c) override;

  /// The multipliers λ of the last evaluate (for /final/lambda).
  const Eigen::VectorXd& multipliers() const { return m_lambda; }
  int k_top() const { return m_k_top; }

 private:
  void kkt(const Eigen::VectorXd& theta_c, double q_min, Record& row);

  MarginSystem& m_margins;
  MarginLoss m_loss;
  LayerView m_layer;  ///< the first layer inside θ_c
  int m_k_top;
  double m_rel_tol;
  Eigen::VectorXd m_q, m_w, m_w_slow, m_lambda, m_dstate, m_dtheta;
  Eigen::MatrixXd m_K;
  /// The last record's KKT support, the seed of the next record's multipliers (nnls.hpp): from
  /// one record to the next it changes by a few samples.
  std::vector<Eigen::Index> m_support;
};

}  // namespace kktflow
