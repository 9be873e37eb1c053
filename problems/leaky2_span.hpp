#pragma once
/// \file leaky2_span.hpp
/// The fixed-outer leaky-ReLU net (leaky2_fixed_outer.hpp) in data-span coordinates.
///
/// Every ∂q_i/∂w_j = y_i a_j φ'(⟨w_j, x_i⟩) x_i lies in span{x_i}, so along gradient flow
///   W(τ) = W(0) + C(τ) X,   Z(τ) = W(τ) Xᵀ = Z(0) + C(τ) Γ,   Γ = X Xᵀ,
/// and loss-time gradient flow dW/dτ = Σ_i w_i ∇q_i becomes, exactly,
///   dC_ji/dτ = a_j φ'(Z_ji) y_i w_i.
/// The state C has m·n entries and one right-hand side costs O(m n²), against O(m n d) in θ.
///
/// Filippov sliding: a pair (j, i) held on its kink Z_ji = 0 takes the equivalent
/// slope φ'_ji ∈ [γ, 1] that makes dZ_ji/dτ = 0. Per neuron j with sliding set S_j this is the
/// linear system Γ_SS u = −(Γ v)_S, u_k = y_k w_k φ'_jk (k ∈ S_j), v_k = y_k w_k φ'_jk (k ∉ S_j).
/// Γ is constant, so Γ_SS is factorized once per change of the sliding set (set_sliding), not
/// per right-hand side.
#include "leaky2_fixed_outer.hpp"
#include "margin_system.hpp"

#include <Eigen/Cholesky>

#include <array>
#include <cstdint>

namespace kktflow {

class Leaky2Span final : public MarginSystem, public FrozenPattern {
 public:
  Leaky2Span(const Leaky2FixedOuter& model, const Eigen::VectorXd& y, const Eigen::VectorXd& theta0);

  Eigen::Index state_dim() const override { return m_m * m_n; }
  Eigen::Index theta_dim() const override { return m_m * m_X.cols(); }
  Eigen::Index num_samples() const override { return m_n; }
  Eigen::Index num_switches() const override { return m_m * m_n; }
  int homogeneity() const override { return 1; }

  void margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) override;
  void ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) override;
  void gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) override;
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> s) override;
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate, Eigen::Ref<Eigen::VectorXd> ds) override;
  void lift(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta) const override;
  void lift_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                     Eigen::Ref<Eigen::VectorXd> dtheta) const override;
  /// θ_c = vec(W0 R₀ + C R_X) with [X; W0]ᵀ = Q [R_X; R₀]ᵀ (thin QR): the rows of W live in a
  /// space of dimension k = min(n + m, d), so metrics cost O(m n k) instead of O(m n d).
  Eigen::Index compact_dim() const override { return m_m * m_Xc.cols(); }
  LayerView compact_layer(const LayerView& layer) const override;
  void lift_compact(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta_c) const override;
  void lift_velocity_compact(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                             Eigen::Ref<Eigen::VectorXd> dtheta_c) const override;

  bool supports_sliding() const override { return true; }
  void set_sliding(const std::vector<Eigen::Index>& switches) override;
  const std::vector<Eigen::Index>& sliding() const override { return m_sliding; }
  Eigen::MatrixX2d sliding_headroom() const override;
  /// Carries the memoised Z along: the projection moves only the sliding pairs' coefficients,
  /// so Z changes by Σ_S ΔC_jk Γ_{k,:}, O(n) a pair instead of a product with Γ.
  void hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) override;
  void resume_switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state,
                               const Eigen::Ref<const Eigen::VectorXd>& s) override;

  void freeze_pattern(const std::vector<std::int64_t>& positive) override;
  void set_side(Eigen::Index k, bool positive) override;
  void thaw_pattern() override {
    m_frozen = false;
    ++m_region_version;
  }
  /// K = (y yᵀ ∘ Γ) ∘ (D̃ᵀ A² D̃) − Σ_j a_j² B_j Γ_{:,S_j} Γ_{S_j S_j}⁻¹ Γ_{S_j,:} B_j, with D̃ the frozen
  /// slopes zeroed on sliding pairs (their Z_jk = 0 adds nothing to a margin), B_j = diag(y ∘ D̃_j),
  /// and the second term the projection that keeps each neuron's sliding pairs on their kinks.
  /// Kept for the region it was formed in (region_version): the late-phase steppers and every
  /// trajectory row ask for it, and at n = 1000 with 1000 sliding pairs it costs 0.05 s.
  void region_gram(Eigen::Ref<Eigen::MatrixXd> K) const override;
  void region_ascent(const Eigen::Ref<const Eigen::VectorXd>& c, Eigen::Ref<Eigen::VectorXd> dstate) override;
  /// dq_i = y_i Σ_j a_j D_ji dZ_ji with D the frozen slopes: O(m n) when dZ = dC Γ is memoised.
  void frozen_margin_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate, Eigen::Ref<Eigen::VectorXd> dq) override;
  FrozenPattern* frozen_pattern() override { return this; }
  /// Pair (j, i) changes dC_ji/dτ = a_j φ'_ji y_i w_i by a_j (1 − γ) y_i w_i, and through the
  /// Filippov solve the rates of neuron j's sliding pairs by a_j Δu, Δu = −Γ_SS⁻¹ Γ_{S,i} times as much.
  double switch_jump_error(Eigen::Index k, const Eigen::VectorXd& w, const Eigen::VectorXd& state, double abs_tol,
                           double rel_tol) const override;

  /// C = 0: the state of θ(0) = θ0.
  Eigen::VectorXd initial_state() const { return Eigen::VectorXd::Zero(state_dim()); }
  /// Effective slopes φ'(Z) of the last ascent (Filippov values on sliding pairs), m × n.
  const Eigen::MatrixXd& slopes() const { return m_D; }
  /// Products with Γ computed so far (Z = Z0 + C Γ on a cache miss, dZ = dC Γ): the O(m n²)
  /// kernel of every right-hand side and switch evaluation, the work measure of bench/late_phase.
  std::int64_t gram_products() const { return m_products; }
  /// dZ = dC Γ for a state velocity, m × n row-major like the state, counted in gram_products()
  /// but not memoised: for velocities asked for once (the weight paths inside switch_batch's and
  /// switch_radau's steps), where the memo's copy of the key and the transposing copy out of
  /// its column-major value cost 5 ms of a 25 ms product at (n, m) = (1000, 1000).
  void velocity_product(const Eigen::Ref<const Eigen::VectorXd>& dstate, RowMajorMatrix& dZ);
  /// Takes Z (m × n, row-major) as the pre-activations at `state`: a stepper that has carried
  /// them over its step (switch_radau's sweeps) saves the product with Γ there.
  void adopt_pre_activations(const Eigen::Ref<const Eigen::VectorXd>& state, const RowMajorMatrix& Z);

  // What a stepper that moves the pattern inside a step needs (solver/switch_batch_stepper.hpp).
  const Eigen::MatrixXd& gram() const { return m_Gram; }
  const Eigen::VectorXd& labels() const { return m_y; }
  const Eigen::VectorXd& outer_weights() const { return m_a; }
  double gamma() const { return m_gamma; }
  /// The frozen pattern's slopes: 1 on the positive side, γ on the other, m × n.
  const Eigen::MatrixXd& frozen_slopes() const { return m_frozen_D; }
  /// Changes whenever the frozen pattern or the sliding set does, so region_gram() can be cached
  /// by it: equal versions, equal region.
  std::uint64_t region_version() const { return m_region_version; }
  /// Neuron j's sliding samples S_j, sorted; empty when none of its pairs slides.
  const std::vector<Eigen::Index>& sliding_samples(Eigen::Index j) const {
    return m_blocks[static_cast<std::size_t>(j)].samples;
  }

 private:
  /// One neuron's sliding set S with what both solves need: Γ_{S,:} and the Cholesky factor of Γ_SS.
  struct SlideBlock {
    std::vector<Eigen::Index> samples;
    Eigen::MatrixXd gram_rows;  ///< Γ_{S,:}, |S| × n
    Eigen::LLT<Eigen::MatrixXd> gram_ss;
  };

  /// u = −Γ_SS⁻¹ Γ_{S,:} v for block b, with v = m_v (zeroed on S here), in m_u: the weights on
  /// the sliding samples that keep ⟨dw_j, x_k⟩ = 0 for every k ∈ S.
  Eigen::VectorBlock<Eigen::VectorXd> sliding_coefficients(const SlideBlock& b);
  /// K_ik = y_i y_k Γ_ik Σ_j a_j² D_ji D_jk, the gradient Gram of the slopes D.
  void slope_gram(const Eigen::MatrixXd& D, Eigen::Ref<Eigen::MatrixXd> K) const;
  /// The Gram of w ↦ ascent(w) at slopes D off the sliding pairs, with every sliding pair at
  /// its equivalent slope (unclamped): each neuron's row projected off span{x_k : k ∈ S_j}, so
  /// the map is linear in w: K = slope_gram(D with D_S = 0) − Σ_j a_j² gⱼᵀ Γ_SS⁻¹ gⱼ.
  void projected_gram(const Eigen::MatrixXd& D, Eigen::Ref<Eigen::MatrixXd> K) const;
  /// Z = Z0 + C Γ at `state`, the O(m n²) product every margin, switch and clock evaluation
  /// needs. The driver asks for it several times at one state (the step's last stage, its switch
  /// functions, the refresh after a switch event), so the last two are memoised.
  const Eigen::MatrixXd& pre_activations(const Eigen::Ref<const Eigen::VectorXd>& state);
  /// dZ = dC Γ for a state velocity, memoised the same way: the driver needs it for the
  /// velocity that ends one step and starts the next.
  const Eigen::MatrixXd& pre_activation_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate);
  void filippov_slopes(const Eigen::Ref<const Eigen::VectorXd>& w);
  /// out = offset + C X in the compact chart (no offset for a velocity).
  void combine_compact_rows(const Eigen::Ref<const Eigen::VectorXd>& coefficients, const Eigen::MatrixXd* offset,
                            Eigen::Ref<Eigen::VectorXd> out) const;

  const Eigen::MatrixXd& m_X;
  Eigen::VectorXd m_y;
  Eigen::VectorXd m_a;
  double m_gamma;
  Eigen::Index m_m;
  Eigen::Index m_n;
  Eigen::MatrixXd m_W0;    ///< m × d
  Eigen::MatrixXd m_Xc;    ///< n × k, X in the orthonormal row basis Q (compact chart)
  Eigen::MatrixXd m_W0c;   ///< m × k, W0 in that basis
  Eigen::MatrixXd m_Gram;  ///< Γ = X Xᵀ, n × n
  Eigen::MatrixXd m_Z0;    ///< m × n
  /// The last two values of a product with Γ, keyed by the exact bits of its argument. A hit
  /// returns what the product computed, or, for Z, what was carried to that state by exact
  /// updates (hold_on_sliding_surfaces, adopt_pre_activations: equal to rounding). Carried values
  /// make results depend on the run's history, so a resumed run seeds the memo with the
  /// checkpoint's switch functions (resume_switch_functions) and stays bit-exact. Slots are sized
  /// once; the entry last found or inserted is the newest, so an insert never evicts it.
  class GramProductMemo {
   public:
    void reserve(Eigen::Index key_size, Eigen::Index rows, Eigen::Index cols);
    Eigen::MatrixXd* find(const Eigen::Ref<const Eigen::VectorXd>& key);
    /// The slot of the older entry, now keyed by `key`; the caller fills it.
    Eigen::MatrixXd& insert(const Eigen::Ref<const Eigen::VectorXd>& key);
    /// Keys the newest entry (the one find just returned) by `key`, for a value updated in place.
    void rekey_newest(const Eigen::Ref<const Eigen::VectorXd>& key);

   private:
    std::array<Eigen::VectorXd, 2> m_key;
    std::array<Eigen::MatrixXd, 2> m_value;
    std::array<bool, 2> m_valid{false, false};
    std::size_t m_newest = 0;
  };
  GramProductMemo m_Z_memo;             ///< Z = Z0 + C Γ by state
  GramProductMemo m_dZ_memo;            ///< dZ = dC Γ by velocity: the step's last stage is the next one's first
  Eigen::MatrixXd m_D;                  ///< m × n effective slopes
  std::vector<Eigen::Index> m_sliding;  ///< switch indices j·n + i, sorted
  std::vector<SlideBlock> m_blocks;     ///< per neuron; empty samples when nothing slides
  Eigen::VectorXd m_v, m_u;             ///< work vectors of the sliding solves (size n), so the RHS allocates nothing
  Eigen::MatrixXd m_raw_slopes;         ///< unclamped Filippov solutions, for sliding_headroom
  bool m_frozen = false;
  std::int64_t m_products = 0;
  Eigen::MatrixXd m_frozen_D;  ///< m × n slopes of the frozen pattern
  std::uint64_t m_region_version = 0;
  mutable Eigen::MatrixXd m_region_gram;                            ///< region_gram() of …
  mutable std::uint64_t m_region_gram_version = ~std::uint64_t{0};  ///< … this region_version
};

}  // namespace kktflow
