#include "region_margins.hpp"

#include "active_samples.hpp"
#include "margin_ros_stepper.hpp"
#include "problems/loss_formulas.hpp"

#include <boost/multiprecision/eigen.hpp>
#include <boost/multiprecision/float128.hpp>
#include <boost/multiprecision/mpfr.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kktflow {

namespace {

namespace mp = boost::multiprecision;
using Float128 = mp::float128;
// et_off: Eigen's expression templates and Boost's do not compose.
using MpfrFloat = mp::number<mp::mpfr_float_backend<0>, mp::et_off>;

constexpr int kChunkBits = 53;  // one double holds an integer of this many bits exactly

/// A Rosenbrock W-method (RegionTableau) on dc/dσ = w(q + K c), in S, with q carried in S.
template <class S>
class RosMargins final : public RegionMargins {
  using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

 public:
  RosMargins(int significand_bits, RegionTableau tableau)
      : m_chunks((significand_bits + kChunkBits - 1) / kChunkBits), m_tableau(std::move(tableau)) {
    using std::sqrt;
    m_gamma = m_tableau.exact_gamma ? S(1) + S(1) / sqrt(S(2)) : S(m_tableau.gamma);
  }

  void set_gram(const Eigen::MatrixXd& K) override { m_K = K.cast<S>(); }
  void set_margins(const Eigen::VectorXd& q) override {
    m_q = q.cast<S>();
    m_has_margins = true;
  }
  bool has_margins() const override { return m_has_margins; }
  void clear() override { m_has_margins = false; }

  void step(const MarginLoss& loss, double h, Eigen::VectorXd& c, Eigen::VectorXd& c_err) override {
    const RegionTableau& t = m_tableau;
    const S hs(h);
    m_w.resize(m_q.size());
    loss_formulas::weights<S>(loss.kind(), m_q, m_w);
    factor(loss, m_gamma * hs, h);
    m_k.resize(static_cast<std::size_t>(t.stages()));
    for (Eigen::Index i = 0; i < t.stages(); ++i) {
      if (i > 0) {
        m_q_stage = m_q;
        m_q_stage.noalias() += hs * (m_K * stages_combined(t.alpha.row(i), i));
        loss_formulas::weights<S>(loss.kind(), m_q_stage, m_w);
        for (Eigen::Index j = 0; j < i; ++j) m_w += S(t.c(i, j)) * k(j);
      }
      k(i) = solve(m_w);
    }
    m_c = hs * stages_combined(t.m.transpose(), t.stages());
    c = m_c.template cast<double>();
    c_err = error_estimate(hs).template cast<double>();
  }

  void accept() override { m_q.noalias() += m_K * m_c; }

  Eigen::VectorXd memory() const override {
    if (!m_has_margins) return {};
    const Eigen::Index per_value = 1 + m_chunks;
    Eigen::VectorXd out(1 + m_q.size() * per_value);
    out[0] = static_cast<double>(m_q.size());
    for (Eigen::Index i = 0; i < m_q.size(); ++i) split(m_q[i], out.segment(1 + i * per_value, per_value));
    return out;
  }

  void restore(const Eigen::VectorXd& memory) override {
    m_has_margins = false;
    if (memory.size() == 0) return;
    const Eigen::Index per_value = 1 + m_chunks;
    const auto n = static_cast<Eigen::Index>(memory[0]);
    if (n < 0 || memory.size() != 1 + n * per_value)
      throw std::invalid_argument("late-phase margins in the checkpoint: " + std::to_string(memory.size()) +
                                  " values do not hold whole margins of " + std::to_string(per_value) +
                                  " doubles each: was the run started with another flow.precision?");
    m_q.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) m_q[i] = join(memory.segment(1 + i * per_value, per_value));
    m_has_margins = true;
  }

 private:
  /// Factors I − γh J, J = (∂w/∂q) K = w (wᵀK) − diag(v) K with v = w ρ, on the samples whose
  /// weights can move the margins within the step (active_samples.hpp): J's rows are of size
  /// ~v_i, so with the rows of the others set aside the matrix is [M_AA −γh J_AI; 0 I]. The
  /// method keeps its order for any matrix (a W-method), and the one set aside differs from I − γhJ by at most
  /// 1% of I (on Fashion-MNIST at n = 1000 in long double an LU of order n took 80% of a 6 s late
  /// step). Only the rows used are formed, column by column from the row wᵀK.
  void factor(const MarginLoss& loss, const S& gamma_h, double h) {
    const Eigen::Index n = m_q.size();
    m_v.resize(n);
    loss_formulas::weights_jacobian_diagonal<S>(loss.kind(), m_q, m_w, m_v);
    m_wK.noalias() = m_w.transpose() * m_K;
    const double gamma = m_tableau.gamma;
    m_reduced = split_samples(m_v.template cast<double>(),
                              2 * h * gamma * static_cast<double>(m_K.diagonal().maxCoeff()), m_split);
    const auto J = [&](Eigen::Index i, Eigen::Index k) { return S(m_w[i] * m_wK[k] - m_v[i] * m_K(i, k)); };
    if (!m_reduced) {
      m_M.resize(n, n);
      for (Eigen::Index k = 0; k < n; ++k)
        for (Eigen::Index i = 0; i < n; ++i) m_M(i, k) = S(i == k ? 1 : 0) - gamma_h * J(i, k);
      m_lu.compute(m_M);
      return;
    }
    const auto A = [&](Eigen::Index r) { return m_split.active[static_cast<std::size_t>(r)]; };
    const auto I = [&](Eigen::Index c) { return m_split.inactive[static_cast<std::size_t>(c)]; };
    const auto a = static_cast<Eigen::Index>(m_split.active.size());
    m_M.resize(a, a);
    for (Eigen::Index c = 0; c < a; ++c)
      for (Eigen::Index r = 0; r < a; ++r) m_M(r, c) = S(r == c ? 1 : 0) - gamma_h * J(A(r), A(c));
    m_lu.compute(m_M);
    m_J_AI.resize(a, static_cast<Eigen::Index>(m_split.inactive.size()));
    for (Eigen::Index c = 0; c < m_J_AI.cols(); ++c)
      for (Eigen::Index r = 0; r < a; ++r) m_J_AI(r, c) = gamma_h * J(A(r), I(c));
  }
  /// (I − γh J)⁻¹ b with the factors of factor().
  Vec solve(const Vec& b) const {
    if (!m_reduced) return m_lu.solve(b);
    const Vec x_A = m_lu.solve(gather(b, m_split.active) + m_J_AI * gather(b, m_split.inactive));
    Vec x = b;
    for (std::size_t r = 0; r < m_split.active.size(); ++r) x[m_split.active[r]] = x_A[static_cast<Eigen::Index>(r)];
    return x;
  }

  /// v = m·2^e, m ∈ [1/2, 1), then m's significand in integer chunks of 53 bits: exact for
  /// every S whose significand fits m_chunks chunks, at any exponent.
  void split(const S& v, Eigen::Ref<Eigen::VectorXd> out) const {
    using std::frexp;
    using std::ldexp;
    using std::trunc;
    int e = 0;
    S m = frexp(v, &e);
    out[0] = e;
    for (int k = 1; k <= m_chunks; ++k) {
      m = ldexp(m, kChunkBits);
      const S digit = trunc(m);
      out[k] = static_cast<double>(digit);
      m -= digit;
    }
  }
  S join(const Eigen::Ref<const Eigen::VectorXd>& in) const {
    using std::ldexp;
    S m = 0;
    for (int k = m_chunks; k >= 1; --k) m = ldexp(S(m + S(in[k])), -kChunkBits);
    return ldexp(m, static_cast<int>(in[0]));
  }

  Vec& k(Eigen::Index i) { return m_k[static_cast<std::size_t>(i)]; }

  /// h Σ e_i k_i; with equal weights (ROS2's (h/2)(k1 + k2)) as (e h) Σ k_i, which rounds as the
  /// method is written where k_i are subnormal (late weights far past the margin).
  Vec error_estimate(const S& hs) {
    const RegionTableau& t = m_tableau;
    if ((t.e.array() == t.e[0]).all()) {
      Vec sum = m_k[0];
      for (Eigen::Index i = 1; i < t.stages(); ++i) sum += k(i);
      return (S(t.e[0]) * hs) * sum;
    }
    return hs * stages_combined(t.e.transpose(), t.stages());
  }

  /// Σ_{j < count} weights_j k_j, summed in stage order.
  Vec stages_combined(const Eigen::Ref<const Eigen::RowVectorXd>& weights, Eigen::Index count) {
    Vec sum = S(weights[0]) * m_k[0];
    for (Eigen::Index j = 1; j < count; ++j) sum += S(weights[j]) * k(j);
    return sum;
  }

  int m_chunks;
  RegionTableau m_tableau;
  S m_gamma;
  bool m_has_margins = false;
  Mat m_K, m_M;  ///< m_M: the matrix factor() factors
  Eigen::Matrix<S, 1, Eigen::Dynamic> m_wK;
  Eigen::PartialPivLU<Mat> m_lu;
  bool m_reduced = false;
  SampleSplit m_split;
  Mat m_J_AI;  ///< γh J_AI when reduced
  Vec m_q, m_q_stage, m_w, m_v, m_c;
  std::vector<Vec> m_k;  ///< the stages' k_i
};

}  // namespace

RegionTableau RegionTableau::ros2() {
  // Verwer et al. 1999, (2.5): (I − γhJ) k1 = f(c0), (I − γhJ) k2 = f(c0 + h k1) − 2 k1,
  // c1 = c0 + (3/2) h k1 + (1/2) h k2, embedded c0 + h k1; γ = 1 + 1/√2.
  RegionTableau t;
  t.order = 2;
  t.exact_gamma = true;
  t.gamma = 1 + 1 / std::sqrt(2.0);
  t.alpha = Eigen::MatrixXd::Zero(2, 2);
  t.c = Eigen::MatrixXd::Zero(2, 2);
  t.alpha(1, 0) = 1;
  t.c(1, 0) = -2;
  t.m = Eigen::Vector2d(1.5, 0.5);
  t.e = Eigen::Vector2d(0.5, 0.5);
  return t;
}

RegionTableau RegionTableau::ros34pw2() {
  // The transformed form's (a, c, m, e) of RosenbrockTableau, with its stages u_i = γh k_i.
  const RosenbrockTableau u = RosenbrockTableau::ros34pw2();
  RegionTableau t;
  t.order = u.order;
  t.gamma = u.gamma;
  t.alpha = u.gamma * u.a;
  t.c = u.gamma * u.c;
  t.m = u.gamma * u.m;
  t.e = u.gamma * u.e;
  return t;
}

std::unique_ptr<RegionMargins> make_region_margins(const Precision& precision, const RegionTableau& tableau) {
  const int bits = precision.significand_bits();
  switch (precision.kind) {
    case Precision::Kind::double_:
      return std::make_unique<RosMargins<double>>(bits, tableau);
    case Precision::Kind::long_double:
      return std::make_unique<RosMargins<long double>>(bits, tableau);
    case Precision::Kind::float128:
      return std::make_unique<RosMargins<Float128>>(bits, tableau);
    case Precision::Kind::mpfr:
      // Every MpfrFloat made from here on carries `bits` (decimal digits are Boost's unit).
      MpfrFloat::default_precision(static_cast<unsigned>(std::ceil(bits * std::log10(2.0))) + 1);
      return std::make_unique<RosMargins<MpfrFloat>>(static_cast<int>(mpfr_get_prec(MpfrFloat(0).backend().data())),
                                                     tableau);
  }
  throw std::logic_error("make_region_margins: unknown precision");
}

}  // namespace kktflow
