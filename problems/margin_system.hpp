#pragma once
/// \file margin_system.hpp
/// The margins q_i = y_i f(x_i; θ) of a model on its data, expressed in the coordinates the
/// flow is integrated in. Gradient flow in loss time is dθ/dτ = Σ_i w_i ∇q_i (loss.hpp);
/// `ascent` returns that vector in state coordinates.
///
/// Two coordinate systems:
///  - FullCoordinates: the state is θ itself; any Model.
///  - Leaky2Span (leaky2_span.hpp): for a first layer W x, every gradient lies in the row span
///    of X, so W(τ) = W(0) + C(τ) X exactly and the state is C ∈ R^{m×n}. Pre-activations are
///    Z = Z(0) + C (X Xᵀ): the right-hand side costs O(m n²) instead of O(m n d) and the span
///    invariant holds by construction. Same trajectory, different chart.
///
/// A loss of the outputs themselves (the square loss) reads them through FullCoordinates with
/// unit signs: its "margins" are then the n·k outputs F (num_margins).
#include "held_kinks.hpp"
#include "model.hpp"

#include <Eigen/Dense>
#include <Eigen/QR>

#include <memory>
#include <utility>
#include <vector>

namespace kktflow {

/// A margin system whose activation pattern an event-driven driver may hold fixed between switch
/// events (as Modelica tools freeze relations between events): with a pattern frozen, the field
/// is smooth inside every step, so the step-size control sees no kinks, and a crossing shows only
/// in the switch functions, where the driver locates it and then moves the pattern on.
/// An optional capability: MarginSystem::frozen_pattern() returns it where supported.
class FrozenPattern {
 public:
  virtual ~FrozenPattern() = default;
  /// Non-sliding switch k uses the slope of side positive[k] (φ' = 1) or not (φ' = γ) at every
  /// evaluation, whatever the sign of s_k there. Margins use the same branch (q = Σ a_j φ'_ji Z_ji).
  virtual void freeze_pattern(const std::vector<std::int64_t>& positive) = 0;
  /// Moves one switch of the frozen pattern to a side.
  virtual void set_side(Eigen::Index k, bool positive) = 0;
  /// Back to φ' from the sign of s_k at every evaluation (the default).
  virtual void thaw_pattern() = 0;
  /// With the pattern frozen and the sliding set fixed, the margins are affine in the state and
  /// the ascent is linear in w: region_ascent is that linear map (ascent without the clamp of
  /// sliding slopes to [γ, 1], which binds only where a pair leaves its kink).
  virtual void region_ascent(const Eigen::Ref<const Eigen::VectorXd>& c, Eigen::Ref<Eigen::VectorXd> dstate) = 0;
  /// Along dstate = region_ascent(c) the margins move by exactly K c:
  /// K_ik = ∂q_i/∂c_k, n × n, constant until the pattern or the sliding set changes. Region-wise
  /// reduction (solver/region_stepper.hpp) integrates the flow as dc/dτ = w(q0 + K c).
  virtual void region_gram(Eigen::Ref<Eigen::MatrixXd> K) const = 0;
  /// dq = (∂q/∂state) dstate with the pattern frozen, where q is affine in the state: the
  /// margins at any point of a step's cubic Hermite interpolant follow from their values and
  /// these velocities at its ends (the driver's log-t clock needs them at its midpoint).
  virtual void frozen_margin_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                                      Eigen::Ref<Eigen::VectorXd> dq) = 0;
  /// What keeping switch k's frozen side past its kink costs a step: the error norm
  /// max_c |Δf_c| / (abs_tol + rel_tol |state_c|) (step_control.hpp) of the change Δf of the
  /// field dstate/dτ when k changes sides, at loss weights w, per unit of τ. A crossing taken at
  /// the end of a step instead of where it happened adds at most this times the time between.
  virtual double switch_jump_error(Eigen::Index k, const Eigen::VectorXd& w, const Eigen::VectorXd& state,
                                   double abs_tol, double rel_tol) const = 0;
};

class MarginSystem {
 public:
  virtual ~MarginSystem() = default;

  virtual Eigen::Index state_dim() const = 0;
  virtual Eigen::Index theta_dim() const = 0;
  virtual Eigen::Index num_samples() const = 0;
  /// The length of margins(): one per sample, or one per output where a model has several.
  virtual Eigen::Index num_margins() const { return num_samples(); }
  virtual Eigen::Index num_switches() const = 0;
  virtual int homogeneity() const = 0;

  /// q_i at `state`; caches what ascent and gradient_gram need.
  virtual void margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) = 0;
  /// Σ_i w_i ∇_θ q_i in state coordinates, at the state of the last margins call.
  virtual void ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) = 0;
  /// K_ik = ⟨∇_θ q_i, ∇_θ q_k⟩ at the state of the last margins call, the Gram of the linear map
  /// w ↦ ascent(w). On sliding pairs the slope is the equivalent one for each w, so the map is
  /// linear only with that slope eliminated: each gradient is projected off the sliding pairs'
  /// kink normals (the ascent keeps them on their kinks), which is the Gram K of that linear map,
  /// with no slope clamped to [γ, 1]. It depends on no weights: a Gram taken at the flow's
  /// weights' slopes instead measured ε_KKT = 7e-5 where this gives 8.7e-11 (frei2023_outside at
  /// ‖θ‖ = 2.5e12, whose margins resolve their differences only to 2e-3 in double).
  virtual void gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) = 0;
  /// G = [g_1 … g_n], state_dim × n, with g_i = ∂ ascent(w)/∂w_i: the margin gradients ∇_θ q_i in
  /// state coordinates at the state of the last margins call, on sliding pairs with the slopes
  /// eliminated as in gradient_gram (unclamped), so that ascent(w) = G w wherever no slope is
  /// clamped and K = GᵀG. Linearly implicit late-phase methods take the stiff part of the field's
  /// Jacobian, G (∂w/∂q) Gᵀ, from it. Default: ascent of each unit vector, exact where nothing
  /// slides; a system with sliding overrides it.
  virtual void margin_gradients(Eigen::Ref<Eigen::MatrixXd> G);
  /// Switch functions (pre-activations) at `state`.
  virtual void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> s) = 0;
  /// ds = (∂s/∂state) dstate, the switch functions' velocity along dstate at the state of the
  /// last switch_functions call (exact: pre-activations of a first layer are linear in the state).
  virtual void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate, Eigen::Ref<Eigen::VectorXd> ds) = 0;
  /// θ of a state.
  virtual void lift(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta) const = 0;
  /// dθ of a state velocity (the linear part of lift).
  virtual void lift_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                             Eigen::Ref<Eigen::VectorXd> dtheta) const = 0;

  /// An isometric image of θ for the direction metrics: θ = Q θ_c, with Q orthonormal columns
  /// acting on the right of every layer, so norms, distances and each layer's singular values
  /// of θ_c are θ's. A system whose θ lives in a small subspace computes them at its dimension.
  /// Default: θ_c = θ.
  virtual Eigen::Index compact_dim() const { return theta_dim(); }
  /// The layout of `layer` (a view into θ) inside θ_c.
  virtual LayerView compact_layer(const LayerView& layer) const { return layer; }
  virtual void lift_compact(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta_c) const {
    lift(state, theta_c);
  }
  virtual void lift_velocity_compact(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                                     Eigen::Ref<Eigen::VectorXd> dtheta_c) const {
    lift_velocity(dstate, dtheta_c);
  }

  /// Filippov sliding: the listed switches are held on their kink s_k = 0, with φ' at the
  /// value in [γ, 1] that keeps ṡ_k = 0. Systems without support throw std::logic_error.
  virtual bool supports_sliding() const { return false; }
  virtual void set_sliding(const std::vector<Eigen::Index>& switches);
  virtual const std::vector<Eigen::Index>& sliding() const { return m_no_sliding; }
  /// Switches whose equivalent slope left [γ, 1] at the last ascent (the field pushes them off),
  /// with true when the slope exceeded 1 and false when it fell below γ.
  std::vector<std::pair<Eigen::Index, bool>> leaving_sliding() const {
    return leaving_from_headroom(sliding(), sliding_headroom());
  }
  /// For each sliding switch, in sliding() order, how far its equivalent slope at the last ascent
  /// lies inside its range [lo, hi]: the row (slope − lo, hi − slope), one entry negative once it
  /// has left.
  virtual Eigen::MatrixX2d sliding_headroom() const { return {}; }
  /// Projects `state` (minimal norm in θ) so every sliding switch is exactly 0.
  virtual void hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> /*state*/) {}
  /// Takes `s` as the switch functions at `state`, as switch_functions computed them in the run
  /// that checkpointed both: a system that carries them from step to step (Leaky2Span) starts a
  /// resumed run from those bits. Default: nothing to carry.
  virtual void resume_switch_functions(const Eigen::Ref<const Eigen::VectorXd>& /*state*/,
                                       const Eigen::Ref<const Eigen::VectorXd>& /*s*/) {}
  /// Event-driven switching support, or nullptr when the system has none.
  virtual FrozenPattern* frozen_pattern() { return nullptr; }

 private:
  std::vector<Eigen::Index> m_no_sliding;
};

/// The state is θ; margins q = y ⊙ F from Model::forward, ascent from Model::vjp. `y` has one
/// sign per output (n·k of them): the labels of a scalar-output model, or ones where a loss of
/// the outputs reads F itself.
///
/// Filippov sliding where the model supports held kinks (Model::supports_held_kinks): the ascent
/// is HeldKinks::vjp (held_kinks.hpp), the VJP with the held pairs' slopes at their equivalent
/// values. For the two-layer net its matrix A is block diagonal, a_j² Γ_SS per neuron: the system
/// leaky2_span solves.
class FullCoordinates final : public MarginSystem {
 public:
  FullCoordinates(Model& model, const Eigen::VectorXd& y);

  Eigen::Index state_dim() const override { return m_model.dim(); }
  Eigen::Index theta_dim() const override { return m_model.dim(); }
  Eigen::Index num_samples() const override { return m_model.num_samples(); }
  Eigen::Index num_margins() const override { return m_y.size(); }
  Eigen::Index num_switches() const override { return m_model.num_switches(); }
  int homogeneity() const override { return m_model.homogeneity(); }

  void margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) override;
  void ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) override;
  /// GᵀG from margin_gradients; used at record points only.
  void gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) override;
  /// n VJPs (with sliding: n sliding solves, unclamped).
  void margin_gradients(Eigen::Ref<Eigen::MatrixXd> G) override;
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> s) override {
    m_model.switch_functions(state, s);
  }
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate, Eigen::Ref<Eigen::VectorXd> ds) override {
    m_model.switch_velocity(dstate, ds);
  }
  void lift(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta) const override {
    theta = state;
  }
  void lift_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                     Eigen::Ref<Eigen::VectorXd> dtheta) const override {
    dtheta = dstate;
  }

  bool supports_sliding() const override { return m_model.supports_held_kinks(); }
  void set_sliding(const std::vector<Eigen::Index>& switches) override { m_held.set(switches); }
  const std::vector<Eigen::Index>& sliding() const override { return m_held.held(); }
  Eigen::MatrixX2d sliding_headroom() const override { return m_held.headroom(); }
  void hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) override;
  /// Effective slopes of the sliding pairs at the last ascent, unclamped, in sliding() order.
  const Eigen::VectorXd& raw_sliding_slopes() const { return m_held.raw_slopes(); }

 private:
  Model& m_model;
  Eigen::VectorXd m_y;
  Eigen::VectorXd m_G;
  Eigen::MatrixXd m_gradients;  ///< gradient_gram's margin_gradients
  HeldKinks m_held;
};

}  // namespace kktflow
