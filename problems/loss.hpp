#pragma once
/// \file loss.hpp
/// Margin losses in the log domain.
///
/// L(θ) = (1/n) Σ_i ℓ(q_i),  q_i = y_i f(x_i; θ),
///   exp:      ℓ(q) = e^{−q}
///   logistic: ℓ(q) = log(1 + e^{−q})
/// Late in training q_i ~ log t ≫ 745, so L underflows every double; we never form it.
/// Instead log L = logsumexp_i(log ℓ(q_i)) − log n and the loss weights
///   w_i = −(∂L/∂q_i)/L = −ℓ'(q_i) / Σ_k ℓ(q_k)  (softmax(−q) for exp)
/// are computed from log ℓ and log(−ℓ'), which are finite for every finite q
/// (Lyu & Li 2020 §3; Ji & Telgarsky 2020). Gradient flow in loss time
/// dθ/dτ = −∇L/L = Σ_i w_i ∇q_i then stays O(1) at any margin.
#include <Eigen/Dense>

#include <string>
#include <utility>

namespace kktflow {

enum class LossKind { exp, logistic };

/// Parses "exp" or "logistic"; throws std::invalid_argument naming `key` otherwise.
LossKind parse_loss_kind(const std::string& text, const std::string& key = "model.loss");
std::string to_string(LossKind kind);

class MarginLoss {
 public:
  explicit MarginLoss(LossKind kind) : m_kind(kind) {}

  LossKind kind() const { return m_kind; }

  /// log ℓ(q), finite for all finite q.
  double log_ell(double q) const;
  /// log(−ℓ'(q)), finite for all finite q.
  double log_minus_dell(double q) const;

  /// log L = log((1/n) Σ ℓ(q_i)).
  double log_value(const Eigen::Ref<const Eigen::VectorXd>& q) const;

  /// w_i = −(∂L/∂q_i)/L ≥ 0; returns log L. Allocates nothing.
  double weights(const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::Ref<Eigen::VectorXd> w) const;

  /// J = ∂w/∂q at q, with w = weights(q): ∂w_i/∂q_k = w_i w_k − δ_ik w_i ρ(q_i), where
  /// ρ = −ℓ''/ℓ' is 1 for exp and the sigmoid 1/(1 + e^{−q}) for logistic. For exp this is
  /// −(diag w − w wᵀ), the softmax Jacobian. Allocates nothing.
  void weights_jacobian(const Eigen::Ref<const Eigen::VectorXd>& q, const Eigen::Ref<const Eigen::VectorXd>& w,
                        Eigen::Ref<Eigen::MatrixXd> J) const;

  /// v = w ρ, so that J = w wᵀ − diag(v) (weights_jacobian). Allocates nothing.
  void weights_jacobian_diagonal(const Eigen::Ref<const Eigen::VectorXd>& q, const Eigen::Ref<const Eigen::VectorXd>& w,
                                 Eigen::Ref<Eigen::VectorXd> v) const;

  /// dw = J dq with J as in weights_jacobian, in O(n) and without forming J.
  void weights_derivative(const Eigen::Ref<const Eigen::VectorXd>& q, const Eigen::Ref<const Eigen::VectorXd>& w,
                          const Eigen::Ref<const Eigen::VectorXd>& dq, Eigen::Ref<Eigen::VectorXd> dw) const;

  /// Lyu & Li's smoothed-margin numerator ℓ^{-1}(Σ_i ℓ(q_i)) = ℓ^{-1}(n L), from log L and n.
  /// exp: −log(nL); logistic: −log(e^{nL} − 1). Equals q_min up to O(log n).
  double inverse_of_total(double log_value, Eigen::Index n) const;

  /// log ℓ(0) − log n … the threshold L < ℓ(0)/n after which Lyu & Li's theory applies.
  double log_ell_zero() const { return log_ell(0.0); }

 private:
  LossKind m_kind;
};

/// Square loss for vector outputs, kept apart from the margin losses: it has no margin and its
/// flow converges at finite θ, so nothing needs the log domain.
///   L(F) = (1/2n) Σ_i ‖F_i − Y_i‖²,  ∂L/∂F_i = (F_i − Y_i)/n,
/// F and Y n × k, row-major, flattened. The 1/(2n) is ours (Timor, Vardi, Shamir 2023 write the
/// empirical square loss; a constant factor only rescales time and leaves the trajectory's curve,
/// its limit and every invariant unchanged).
class SquareLoss {
 public:
  explicit SquareLoss(Eigen::VectorXd targets, Eigen::Index samples) : m_Y(std::move(targets)), m_n(samples) {}

  Eigen::Index num_samples() const { return m_n; }
  const Eigen::VectorXd& targets() const { return m_Y; }
  double value(const Eigen::Ref<const Eigen::VectorXd>& F) const;
  /// G = ∂L/∂F; returns L. Allocates nothing.
  double gradient(const Eigen::Ref<const Eigen::VectorXd>& F, Eigen::Ref<Eigen::VectorXd> G) const;

 private:
  Eigen::VectorXd m_Y;
  Eigen::Index m_n;
};

/// Targets for two outputs from ±1 labels: y = +1 ↦ e1, y = −1 ↦ e2 (Timor et al.'s labels e1, e2),
/// n × 2 row-major, flattened.
Eigen::VectorXd two_class_targets(const Eigen::Ref<const Eigen::VectorXd>& y);

/// log(Σ exp(v_i)) without overflow; −∞ for an empty or all −∞ input.
double log_sum_exp(const Eigen::Ref<const Eigen::VectorXd>& v);

}  // namespace kktflow
