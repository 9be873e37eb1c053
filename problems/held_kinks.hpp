#pragma once
/// \file held_kinks.hpp
/// Filippov sliding on ReLU-type kinks for any model with held kinks (Model::supports_held_kinks),
/// whatever the loss: the VJP Σ_i G_i ∂F_i/∂θ with the held switches' slopes at their equivalent
/// values. The unknowns are the backward coefficients δ_S on the held set S; the VJP is linear in
/// (G, δ_S) and ṡ linear in the VJP, so the sliding condition ṡ_S = 0 is the |S| × |S| system
///   A δ_S = −b(G),   A = ∂ṡ_S/∂δ_S (columns: one VJP and one JVP each),   b = ṡ_S at δ_S = 0,
/// with A a function of θ only, built once per θ and reused for every G there (Filippov 1988,
/// Ch. 2 §4: the convex combination of the two sides' fields tangent to the surface). The field is
/// ±VJP for every loss (margin ascent, square-loss descent): the condition does not see the sign.
/// Each δ_k is read as a slope δ_k / g_k (g_k the coefficient reaching z_k from above) and clamped
/// to kink_slopes(k): an unclamped slope outside that range means the field pushes the pair off.
#include "model.hpp"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

namespace kktflow {

class HeldKinks {
 public:
  explicit HeldKinks(Model& model);

  /// The held switches (sorted and made unique here); the model holds them too.
  void set(std::vector<Eigen::Index> switches);
  const std::vector<Eigen::Index>& held() const { return m_held; }
  bool empty() const { return m_held.empty(); }
  /// θ changed: A is rebuilt at `theta` (where the model's last forward was) when next needed.
  void moved_to(const Eigen::Ref<const Eigen::VectorXd>& theta);
  /// grad = VJP of G with δ_S solving A δ_S = −b(G), at the θ of the last moved_to; clamp: δ_S
  /// moved to the slope range (the field), else left where the solve put it (the raw slopes).
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad, bool clamp);
  /// Slopes of the held pairs at the last clamped vjp, unclamped, in held() order.
  const Eigen::VectorXd& raw_slopes() const { return m_raw_slopes; }
  /// Held switches whose raw slope left their range, and whether above it.
  std::vector<std::pair<Eigen::Index, bool>> leaving() const;
  /// (slope − lo, hi − slope) of each held pair's raw slope, in held() order.
  Eigen::MatrixX2d headroom() const;

 private:
  void factor();
  /// ṡ_S along dtheta, into m_sdot_held (the model's switch caches at m_theta).
  void held_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta);

  Model& m_model;
  std::vector<Eigen::Index> m_held;  ///< sorted
  Eigen::VectorXd m_theta;
  bool m_have_factor = false;
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>
      m_factor;  ///< rank-safe: A is singular when held inputs coincide
  Eigen::MatrixXd m_A;
  Eigen::VectorXd m_column, m_s, m_ds, m_zero_G, m_unit, m_delta, m_incoming, m_sdot_held, m_raw_slopes;
};

/// The held switches whose slope has left its range, and whether above it, from their headroom
/// rows (slope − lo, hi − slope) in `held` order (HeldKinks::headroom,
/// MarginSystem::sliding_headroom). An infinite slope (a pair whose sample has no weight while a
/// force is needed) leaves; a NaN one does not.
std::vector<std::pair<Eigen::Index, bool>> leaving_from_headroom(const std::vector<Eigen::Index>& held,
                                                                 const Eigen::MatrixX2d& headroom);

/// Whether switch k is among `leaving` (HeldKinks::leaving, MarginSystem::leaving_sliding).
inline bool is_leaving(const std::vector<std::pair<Eigen::Index, bool>>& leaving, Eigen::Index k) {
  return std::any_of(leaving.begin(), leaving.end(), [k](const auto& l) { return l.first == k; });
}

/// Filippov's capture test, shared by the margin flow's driver and the square-loss flow: holds
/// the sorted candidates `trial` together with the sorted `held` (hold(held ∪ trial) sets the held
/// set and evaluates the field there), drops the candidates whose slopes leave their range
/// (leaving()), and repeats until none does. Returns the candidates kept; when none is, the
/// caller restores `held`.
template <class Hold, class Leaving>
std::vector<Eigen::Index> keep_attracted(const std::vector<Eigen::Index>& held, std::vector<Eigen::Index> trial,
                                         Hold&& hold, Leaving&& leaving) {
  while (!trial.empty()) {
    std::vector<Eigen::Index> merged;
    std::merge(held.begin(), held.end(), trial.begin(), trial.end(), std::back_inserter(merged));
    hold(merged);
    const auto out = leaving();
    const auto tested = trial.size();
    std::erase_if(trial, [&](Eigen::Index k) { return is_leaving(out, k); });
    if (trial.size() == tested) return trial;
  }
  return trial;
}

}  // namespace kktflow
