#pragma once
/// \file switch_radau_stepper.hpp
/// `switch_radau`: switch batching (neuron_sweeps.hpp) with an implicit, L-stable treatment of
/// the loss weights, so that one method carries the span chart from the first switches into the
/// stiff late phase, where pairs may keep arriving at their kinks.
///
/// switch_batch iterates its collocation equations by fixed point (Picard), which contracts only
/// while h‖J‖ ≲ 1, J = K P the margins' Jacobian (K the region Gram, P = ∂w/∂q): late, where the
/// softmax weights equalize the support margins at a rate ~‖K‖ while the direction creeps, its
/// step stays O(1/‖J‖) (bench/scale at (1000, 10000, 1000): dt ≈ 0.2 at log t 130 with thirty
/// products a step, where log t = 3e6 needs τ ≈ 5e5). region_ros2 takes steps ∝ τ there but ends
/// a step at every switch, and at that size pairs reached their kinks at every step until
/// log t ≈ 600.
///
/// Here the margins' path over a step is the Radau IIA collocation polynomial (3 stages, order 5,
/// stiffly accurate, L-stable; Hairer & Wanner II, §IV.5 and §IV.8). The unknowns are the stage
/// margins Q_k ≈ q(c_k h), c = ((4 − √6)/10, (4 + √6)/10, 1); the weights' path is the quadratic
/// through w(Q_k), and NeuronSweeps steps every neuron through its own switches and onsets along
/// it, which gives the margins q(c_k h) that path produces. The stage equations Q_k = q(c_k h) are
/// solved by simplified Newton with J = K P (exact inside a region; across the step's switches an
/// approximation, which only slows convergence), the 3n × 3n system split by A = V D V⁻¹ into a
/// real and a complex n × n system. Newton runs on the margins, not the weights: the weights
/// respond to the margins exponentially, and iterating on them diverged at h ≈ 50 on the demo
/// (iterates went negative).
///
/// Convergence (their §IV.8): the Newton correction's change of W(h), mapped to the state and
/// measured in the error norm, times η = θ/(1 − θ) from the contraction rate θ (0.1 assumed on the
/// first iteration), is ≤ 3e-2. The error estimate is theirs: the embedded order-3 formula with
/// b̂0 = μ (A's real eigenvalue), err = (I − hμ P K)⁻¹ (Σ e_l z_l − μ h w0), z_l = W(c_l h),
/// bounded as hJ → ∞, then mapped to the state.
///
/// J's factors are formed at every attempt (K itself is cached per region by
/// Leaky2Span), from the stages where the last accepted step ended, and Newton starts from the
/// stage margins at q0 (RADAU5's zero stage increments). Measured at (1000, 10000, 1000) from
/// log t = 130 for 60 s: log t 2.7e4 so; keeping J across steps until Newton contracted slowly
/// (θ > 0.3) and the LU while h stayed within 20%, 7e3 (θ stayed ≈ 0.1, three to five iterations
/// a step); extrapolating the last step's polynomial for starting values, 1.0e4 (pairs reaching
/// their kinks at the step boundaries make the extrapolation miss by ~100 tolerances).
///
/// Where a bound on h|α|ρ(J) from K's diagonal is below 0.5 (the first steps of a run: 0.05–0.3 on
/// Fashion-MNIST before log t 10, where a step meets a thousand switches) simplified Newton runs on
/// M = I: neither K nor the factors are formed, and an iteration contracts by about the bound.
///
/// A step costs three products with Γ per Newton iteration but the first (the cubic's coefficients
/// for all neurons; two iterations in most steps), a real and a complex symmetric factorization
/// of order n (margin_newton.hpp) or, from n = 256 on, of the samples whose weights can move the
/// margins within the step (active_newton.hpp: at n = 1000 on Fashion-MNIST 40% of attempts in
/// the early phase, and every one once most samples are far past the margin), and the region
/// Gram when the region changed.
#include "active_newton.hpp"
#include "neuron_sweeps.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

#include <Eigen/Dense>

#include <complex>
#include <cstdint>
#include <vector>

namespace kktflow {

class Leaky2Span;

/// Radau IIA with three stages (Hairer & Wanner II, Table IV.5.6), in the form the sweeps need.
struct RadauTableau {
  Eigen::Vector3d c;
  Eigen::Matrix3d A;          ///< A_kl = ∫₀^{c_k} ℓ_l, ℓ_l the Lagrange basis on c
  Eigen::Matrix3d B;          ///< (b1, b2, b3)ᵀ = B (w_1, w_2, w_3)ᵀ for W(u h) = h (u b1 + u² b2 + u³ b3)
  double mu = 0;              ///< A's real eigenvalue
  std::complex<double> nu;    ///< one of its complex pair
  Eigen::Matrix3cd V, Vinv;   ///< A = V diag(μ, ν, ν̄) V⁻¹, V's first column real, third the second's conjugate
  Eigen::Vector3d e;          ///< the error estimate's weights on z_l = W(c_l h)
  std::vector<double> nodes;  ///< where the sweeps record margins: c1, 1/2 (the clock's midpoint), c2, 1
};

/// The tableau, computed once from the nodes (A from Lagrange integrals, the rest from A).
const RadauTableau& radau_iia3();

class SwitchRadau final : public Stepper {
 public:
  explicit SwitchRadau(const StepperOptions& options) : m_opt(options), m_control(3) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  void reset() override {
    m_control.reset();
    m_q_end.resize(0);
  }
  /// The controller's memory and the last accepted step's end-stage margins (J's point).
  Eigen::VectorXd memory() const override;
  void restore_memory(const Eigen::VectorXd& memory) override;
  StepperTraits traits() const override { return {StepperCategory::switch_resolving, 5}; }

 private:
  /// J = K P for the span's current region and the factors of I − hμJ and I − hνJ. P is taken
  /// where the last accepted step's stages ended, not at the state: late, the state's margins
  /// carry errors of rel_tol·‖q‖ (O(1) at ‖q‖ ~ 1e8) that put its softmax weights tens of per cent
  /// off the slow manifold the stages relax to at once, and a Jacobian there left Newton
  /// contracting by only ~0.3 an iteration on the demo.
  void factor_jacobian(const MarginLoss& loss, Leaky2Span& span, double h);
  /// b_p of W(u h) = h (u b1 + u² b2 + u³ b3) from the stage weights, and G_p = region_ascent(b_p) Γ;
  /// returns the products with Γ it took. `dxdt` is the velocity at x, ascent(w0).
  int path_products(Leaky2Span& span, const Eigen::VectorXd& dxdt);
  /// Runs the simplified Newton iteration from the stage margins at q0; true when it converged.
  bool solve_stages(FlowSystem& sys, Leaky2Span& span, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double h);
  /// The simplified Newton correction of the stage margins for the residuals in m_residual.
  void newton_correction();
  /// m_w from m_Q: the stage weights, positive at any stage margins.
  void stage_weights(const MarginLoss& loss);
  /// The filtered error estimate of the step, mapped to the state.
  const Eigen::VectorXd& error_estimate(Leaky2Span& span, double h);

  StepperOptions m_opt;
  StepController m_control;
  double m_log_loss_mid = 0;
  Eigen::VectorXd m_q_end;  ///< the last accepted step's stage margins at u = 1
  Eigen::MatrixXd m_K;
  ActiveSetNewton m_newton;
  // The step.
  Eigen::VectorXd m_s, m_q0, m_w0, m_dW, m_work, m_scratch;
  Eigen::MatrixXd m_Q;         ///< stage margins q(c_k h), n × 3: the Newton unknowns
  Eigen::MatrixXd m_w;         ///< stage weights w(Q_k), n × 3
  Eigen::MatrixXd m_residual;  ///< n × 3
  Eigen::MatrixXd m_b;         ///< b1, b2, b3 as columns, n × 3
  Eigen::VectorXd m_b1, m_b2, m_b3;
  RowMajorMatrix m_G1, m_G2, m_G3;
  NeuronSweeps m_sweeps;
  std::vector<Eigen::Index> m_captured;
};

}  // namespace kktflow
