#pragma once
/// \file kkt.hpp
/// KKT analysis of the fixed-outer leaky-ReLU net (Frei, Vardi, Bartlett, Srebro, Hu, ICLR 2023):
///
///   f(x; W) = Σ_j a_j φ(⟨w_j, x⟩),  φ(z) = max(z, γz),  q_i(W) = y_i f(x_i; W),
///   max-margin problem   min ½‖W‖_F²  s.t.  q_i(W) ≥ 1  (i = 1..n).
///
/// q_i is 1-homogeneous, so θ̃ = W / q_min is feasible, and ∂q_i/∂w_j = y_i a_j φ'(⟨w_j, x_i⟩) x_i:
/// every multiplier combination is M X with M ∈ R^{m×n}, M_ji = a_j y_i μ_ji. Two tools:
///
///  - clarke_kkt: Lyu & Li's (ε, δ)-KKT residual (ICLR 2020, their (ε, δ)-KKT definition, which
///    uses Clarke's subdifferential): ε = min ‖W̃ − M X‖_F over λ ≥ 0 and μ_ji = λ_i φ'_ji, where φ'_ji is the
///    pattern's slope on a strict pair and any value in [γ, 1] on a pair at its kink
///    (γλ_i ≤ μ_ji ≤ λ_i); δ = Σ_i λ_i (q_i(W̃) − 1). A convex QP (cone_qp.hpp).
///  - polish: inside one activation pattern S (s_ji = sign⟨w_j, x_i⟩, 0 on a kink) the margins
///    are linear in W, and min ½‖W‖² s.t. q_i ≥ 1, s_ji⟨w_j, x_i⟩ ≥ 0, ⟨w_j, x_i⟩ = 0 on kinks is
///    a convex QP. Its solution lies in the data span, W = C X; we solve its dual over the
///    multipliers (λ, ν, ρ) with Gram matrix Γ = X Xᵀ (n × n), generating the sign constraints
///    only when violated. If the limit of gradient flow is a KKT point on the closure of S's
///    region, it is this QP's unique solution (strictly convex objective, KKT ⇒ optimal), so the
///    polished point is the flow's limit computed to rounding, not to the flow's ε.
#include <Eigen/Dense>

#include <cstdint>
#include <limits>
#include <string>

namespace kktflow {

/// The data and fixed parameters of one Frei net.
struct Leaky2Net {
  Eigen::MatrixXd X;     ///< n × d, one sample per row
  Eigen::VectorXd y;     ///< n labels ±1
  Eigen::VectorXd a;     ///< m outer weights (fixed)
  double gamma = 0.5;    ///< leaky slope γ ∈ [0, 1)
  Eigen::MatrixXd gram;  ///< Γ = X Xᵀ

  [[nodiscard]] Eigen::Index samples() const { return X.rows(); }
  [[nodiscard]] Eigen::Index width() const { return a.size(); }
  [[nodiscard]] Eigen::Index features() const { return X.cols(); }
};

/// Builds the net and its Gram matrix. Throws std::invalid_argument on inconsistent sizes,
/// labels other than ±1 or γ outside [0, 1).
Leaky2Net make_leaky2_net(Eigen::MatrixXd X, Eigen::VectorXd y, Eigen::VectorXd a, double gamma);

/// W (m × d) from θ flat in row-major order (as /final/theta holds it), and back.
Eigen::MatrixXd weights_from_theta(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Index m, Eigen::Index d);
Eigen::VectorXd theta_from_weights(const Eigen::Ref<const Eigen::MatrixXd>& W);

/// φ(z) = max(z, γz).
inline double leaky(double z, double gamma) { return z > 0 ? z : gamma * z; }

/// f(x; W) for the rows x of P (k × d).
Eigen::VectorXd outputs(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                        const Eigen::Ref<const Eigen::MatrixXd>& P);
/// q_i = y_i f(x_i; W).
Eigen::VectorXd margins(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W);
/// min_i q_i / ‖W‖_F (the normalized margin of a 1-homogeneous net).
double normalized_margin(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W);

/// ∠(A, B) of two matrices as vectors, in [0, π]; computed as 2 asin(‖Â − B̂‖/2), accurate for
/// tiny angles where acos of the cosine is not.
double angle_between(const Eigen::Ref<const Eigen::MatrixXd>& A, const Eigen::Ref<const Eigen::MatrixXd>& B);

/// Activation pattern, m × n: +1 / −1 for the sign of ⟨w_j, x_i⟩, 0 for a pair at its kink.
using Pattern = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;

/// Ours: a pair is at its kink when |⟨w_j, x_i⟩| ≤ 1e-6 ‖w_j‖‖x_i‖. Pairs the integrator holds
/// in Filippov sliding sit at ~1e-16 relative; crossing pairs are rarely below 1e-5.
inline constexpr double kKinkThreshold = 1e-6;

Pattern activation_pattern(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                           double threshold = kKinkThreshold);
/// The pattern of Frei et al.'s rank-2 KKT points: s_ji = sign(a_j y_i).
Pattern frei_pattern(const Leaky2Net& net);
/// Number of kink entries (zeros) of a pattern.
Eigen::Index count_kinks(const Pattern& pattern);

/// (ε, δ) of Lyu & Li's (ε, δ)-KKT conditions at W̃ = W / q_min, with Clarke multipliers.
struct KktResidual {
  double epsilon = 0;  ///< ‖W̃ − M X‖_F, formed explicitly (no ‖a‖² − ‖b‖² cancellation)
  double delta = 0;    ///< Σ_i λ_i (q_i(W̃) − 1)
  double q_min = 0;    ///< min_i q_i(W)
  double norm_tilde = 0;  ///< ‖W̃‖_F; ε/‖W̃‖ and δ/‖W̃‖² are scale-free (Σλ_i = ‖W̃‖² at a KKT point)
  Eigen::VectorXd lambda;  ///< λ ≥ 0, n
  Eigen::MatrixXd slopes;  ///< φ'_ji = μ_ji/λ_i, m × n (the pattern's slope where λ_i = 0)
  Eigen::Index kinks = 0;  ///< pairs given the Clarke range [γ, 1]
  /// The QP solver met its optimality test. Either way ε and δ belong to the feasible multipliers
  /// returned, so ε bounds the minimal residual from above.
  bool converged = false;
};

/// The residual at W with kinks detected by `threshold`; ε = δ = +∞ when q_min ≤ 0 (no
/// rescaling of W is feasible).
KktResidual clarke_kkt(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                       double threshold = kKinkThreshold);

/// The solution of the pattern-restricted max-margin QP.
struct Polished {
  Eigen::MatrixXd W;              ///< m × d, min_i q_i = 1 at the optimum
  Eigen::VectorXd lambda;         ///< multipliers of q_i ≥ 1
  Eigen::Index active_signs = 0;  ///< strict pairs of the pattern that end on their kink
  Eigen::Index kinks = 0;         ///< pairs the pattern holds at 0
  int rounds = 0;                 ///< constraint-generation rounds
  bool feasible = false;          ///< false: no W realizes the pattern with positive margins
  bool converged = false;
  bool capped = false;              ///< given up: max_sign_constraints, max_bytes or 50 rounds (ours) reached
  Eigen::Index dual_variables = 0;  ///< variables of the last dual built, or of the one refused by max_bytes
  double dual_bytes = 0;            ///< cone_qp_bytes(dual_variables)
  double max_bytes = 0;             ///< the budget polish was given
  bool over_memory = false;         ///< capped because the next dual would exceed max_bytes
};

/// Ours: the dense dual of one polishing round may hold 512 MB (cone_qp_bytes: about 3 600
/// variables). The dual carries a variable per sample, per kink and per generated sign
/// constraint, and an unconverged direction can violate most of its m·n sign constraints at once
/// (tens of GB at n = 1000, m = 100).
inline constexpr double kPolishMemoryBytes = 512e6;

/// Solves the QP restricted to `pattern`. A search over many patterns may cap the sign
/// constraints the dual carries (each is a variable of a dense QP); a pattern that needs more is
/// given up (feasible = false, capped = true). A round whose dual would exceed `max_bytes` is
/// given up before it is built, the same way (over_memory = true).
Polished polish(const Leaky2Net& net, const Pattern& pattern,
                Eigen::Index max_sign_constraints = std::numeric_limits<Eigen::Index>::max(),
                double max_bytes = kPolishMemoryBytes);

/// "round 2 needs a dual of 31 000 variables, 38.4 GB, above 0.512 GB (ours)": why `p` was given
/// up, or an empty string when it was not.
std::string polish_refusal(const Polished& p);

}  // namespace kktflow
