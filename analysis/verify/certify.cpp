#include "analysis/verify/certify.hpp"

#include "analysis/verify/interval.hpp"

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Intervals whose every operation rounds its bounds outward, and their unchecked form for use
/// inside a RoundingScope (interval.hpp).
using Interval = interval::Checked;
using interval::Fast;
using interval::RoundingScope;

/// Smallest |x| over the interval.
double mig(const Fast& x) { return x.lower() > 0 ? x.lower() : x.upper() < 0 ? -x.upper() : 0.0; }
/// Largest |x| over the interval.
double mag(const Fast& x) { return std::max(std::abs(x.lower()), std::abs(x.upper())); }

/// ⟨a, b⟩ enclosed; a and b contiguous of length n.
Fast dot(const double* a, const double* b, Index n) {
  Fast sum(0.0);
  for (Index k = 0; k < n; ++k) sum += Fast(a[k]) * Fast(b[k]);
  return sum;
}

/// ‖x‖₂ enclosed.
Fast norm(const double* x, Index n) {
  Fast sum(0.0);
  for (Index k = 0; k < n; ++k) sum += boost::numeric::square(Fast(x[k]));
  return boost::numeric::sqrt(sum);
}

/// Accumulates Σ x² over intervals x, as an upper bound: ‖·‖_F of an enclosed matrix.
class SquaresUp {
 public:
  void add(const Fast& x) {
    const Fast m(mag(x));
    m_sum += m * m;
  }
  [[nodiscard]] double sqrt_upper() const { return boost::numeric::sqrt(m_sum).upper(); }

 private:
  Fast m_sum{0.0};
};

/// Upper bound of asin(s) for s ∈ [0, s_up] via asin s ≤ s/√(1 − s²) (θ ≤ tan θ); π/2 when
/// s_up ≥ 1 (the angles bounded here are known to be acute).
double asin_upper(double s_up) {
  constexpr double half_pi_up = std::numbers::pi / 2 + 4e-16;
  const Fast s(std::max(0.0, s_up));
  const Fast cos2 = Fast(1.0) - s * s;
  if (!(cos2.lower() > 0)) return half_pi_up;
  return std::min(half_pi_up, (s / boost::numeric::sqrt(cos2)).upper());
}

/// φ over an interval: φ is increasing, so [φ(lo), φ(hi)], each end rounded outward.
Fast leaky_enclosure(const Fast& z, double gamma) {
  const double lo = z.lower() > 0 ? z.lower() : (Fast(gamma) * Fast(z.lower())).lower();
  const double hi = z.upper() > 0 ? z.upper() : (Fast(gamma) * Fast(z.upper())).upper();
  return {lo, hi};
}

/// Z = W Xᵀ enclosed, m × n row-major, and the upper bounds of the row norms of W and X.
struct PreActivations {
  std::vector<Fast> Z;
  std::vector<double> w_norm_up;
  std::vector<double> x_norm_up;
};

PreActivations enclose_pre_activations(const RowMajorMatrix& W, const RowMajorMatrix& X) {
  const Index m = W.rows();
  const Index n = X.rows();
  const Index d = W.cols();
  PreActivations pre;
  pre.Z.reserve(static_cast<std::size_t>(m * n));
  for (Index j = 0; j < m; ++j) {
    for (Index i = 0; i < n; ++i) pre.Z.push_back(dot(W.row(j).data(), X.row(i).data(), d));
  }
  for (Index j = 0; j < m; ++j) pre.w_norm_up.push_back(norm(W.row(j).data(), d).upper());
  for (Index i = 0; i < n; ++i) pre.x_norm_up.push_back(norm(X.row(i).data(), d).upper());
  return pre;
}

/// Strictness of the pattern against the enclosed pre-activations (fills two certificate fields).
void certify_strictness(const PreActivations& pre, const Pattern& pattern, KktCertificate& cert) {
  const Index n = pattern.cols();
  cert.strictness_lower = std::numeric_limits<double>::infinity();
  for (Index j = 0; j < pattern.rows(); ++j) {
    for (Index i = 0; i < n; ++i) {
      const Fast& z = pre.Z[static_cast<std::size_t>(j * n + i)];
      const std::int8_t s = pattern(j, i);
      if (!((s > 0 && z.lower() > 0) || (s < 0 && z.upper() < 0))) {
        ++cert.non_strict;
        continue;
      }
      const Fast scale =
          Fast(pre.w_norm_up[static_cast<std::size_t>(j)]) * Fast(pre.x_norm_up[static_cast<std::size_t>(i)]);
      cert.strictness_lower = std::min(cert.strictness_lower, (Fast(mig(z)) / scale).lower());
    }
  }
  if (cert.non_strict > 0 || !std::isfinite(cert.strictness_lower)) cert.strictness_lower = 0;
}

/// q_i = y_i Σ_j a_j φ(Z_ji), enclosed.
std::vector<Fast> enclose_margins(const Leaky2Net& net, const PreActivations& pre) {
  const Index n = net.samples();
  std::vector<Fast> q;
  for (Index i = 0; i < n; ++i) {
    Fast f(0.0);
    for (Index j = 0; j < net.width(); ++j) {
      f += Fast(net.a[j]) * leaky_enclosure(pre.Z[static_cast<std::size_t>(j * n + i)], net.gamma);
    }
    q.push_back(Fast(net.y[i]) * f);
  }
  return q;
}

/// ‖W / q_min − M X‖_F, M_ji = λ_i y_i a_j φ'_ji with the pattern's slopes, as an upper bound.
double residual_upper(const Leaky2Net& net, const RowMajorMatrix& W, const RowMajorMatrix& X,
                      const Eigen::VectorXd& lambda, const Pattern& pattern, const Fast& inv_q_min) {
  const Index n = net.samples();
  const Index d = W.cols();
  SquaresUp squares;
  std::vector<Fast> M(static_cast<std::size_t>(n));
  for (Index j = 0; j < net.width(); ++j) {
    for (Index i = 0; i < n; ++i) {
      const double slope = pattern(j, i) > 0 ? 1.0 : net.gamma;
      M[static_cast<std::size_t>(i)] = Fast(lambda[i]) * Fast(net.y[i]) * Fast(net.a[j]) * Fast(slope);
    }
    for (Index k = 0; k < d; ++k) {
      Fast r = Fast(W(j, k)) * inv_q_min;
      for (Index i = 0; i < n; ++i) r -= M[static_cast<std::size_t>(i)] * Fast(X(i, k));
      squares.add(r);
    }
  }
  return squares.sqrt_upper();
}

/// λ_i y_i c_i of Frei's z = Σ_i λ_i y_i c_i x_i. The c_i are integers plus γ times integers;
/// the product is rounded, so enclose_predictor treats these doubles as z's exact definition.
Eigen::VectorXd frei_coefficients(const Leaky2Net& net, const Eigen::Ref<const Eigen::VectorXd>& lambda) {
  const auto plus = static_cast<double>((net.a.array() > 0).count());
  const auto minus = static_cast<double>(net.width()) - plus;
  Eigen::VectorXd coef(net.samples());
  for (Index i = 0; i < net.samples(); ++i) {
    const double c = net.y[i] > 0 ? plus + net.gamma * minus : net.gamma * plus + minus;
    coef[i] = lambda[i] * net.y[i] * c;
  }
  return coef;
}

/// z = Σ_i coef_i x_i enclosed, d entries.
std::vector<Fast> enclose_predictor(const RowMajorMatrix& X, const Eigen::VectorXd& coef) {
  std::vector<Fast> z(static_cast<std::size_t>(X.cols()), Fast(0.0));
  for (Index i = 0; i < X.rows(); ++i) {
    for (Index k = 0; k < X.cols(); ++k) z[static_cast<std::size_t>(k)] += Fast(coef[i]) * Fast(X(i, k));
  }
  return z;
}

/// The family direction of row j: p for a_j > 0, q otherwise.
const Eigen::VectorXd& family_of(const FamilyCertificate& fam, const Leaky2Net& net, Index j) {
  return net.a[j] > 0 ? fam.p : fam.q;
}

}  // namespace

KktCertificate certify_kkt(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                           const Eigen::Ref<const Eigen::VectorXd>& lambda, const Pattern& pattern) {
  if (lambda.size() != net.samples() || (lambda.array() < 0).any()) {
    throw std::invalid_argument("certify_kkt: λ must hold n = " + std::to_string(net.samples()) +
                                " non-negative multipliers");
  }
  const RowMajorMatrix Wr = W;
  const RowMajorMatrix Xr = net.X;
  KktCertificate cert;
  const RoundingScope scope;
  const PreActivations pre = enclose_pre_activations(Wr, Xr);
  certify_strictness(pre, pattern, cert);
  const std::vector<Fast> q = enclose_margins(net, pre);
  cert.q_min_lower = std::ranges::min(q, {}, [](const Fast& x) { return x.lower(); }).lower();
  cert.q_min_upper = std::ranges::min(q, {}, [](const Fast& x) { return x.upper(); }).upper();
  cert.valid = cert.non_strict == 0 && cert.q_min_lower > 0;
  if (!(cert.q_min_lower > 0)) {
    cert.epsilon_upper = cert.delta_upper = std::numeric_limits<double>::infinity();
    cert.epsilon_relative_upper = cert.delta_relative_upper = std::numeric_limits<double>::infinity();
    return cert;
  }
  const Fast inv_q_min = Fast(1.0) / Fast(cert.q_min_lower, cert.q_min_upper);
  cert.epsilon_upper = residual_upper(net, Wr, Xr, lambda, pattern, inv_q_min);
  Fast delta(0.0);
  for (Index i = 0; i < net.samples(); ++i) {
    delta += Fast(lambda[i]) * (q[static_cast<std::size_t>(i)] * inv_q_min - Fast(1.0));
  }
  cert.delta_upper = delta.upper();
  Fast w_squares(0.0);
  for (Index k = 0; k < Wr.size(); ++k) w_squares += boost::numeric::square(Fast(Wr.data()[k]));
  const Fast norm_tilde = boost::numeric::sqrt(w_squares) * inv_q_min;
  cert.epsilon_relative_upper = (Fast(cert.epsilon_upper) / norm_tilde).upper();
  cert.delta_relative_upper = (delta / boost::numeric::square(norm_tilde)).upper();
  return cert;
}

RankCertificate certify_rank2(const Eigen::Ref<const Eigen::MatrixXd>& W) {
  RankCertificate cert;
  if (std::min(W.rows(), W.cols()) < 3) return cert;  // rank ≤ 2 by shape
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(W, Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  cert.ratio_float = s[0] > 0 ? s[2] / s[0] : std::numeric_limits<double>::infinity();
  const RowMajorMatrix Wr = W;
  const Eigen::VectorXd v1 = svd.matrixV().col(0);
  const Eigen::VectorXd v2 = svd.matrixV().col(1);
  const RoundingScope scope;
  SquaresUp tail;
  Fast wv_squares(0.0);
  for (Index j = 0; j < Wr.rows(); ++j) {
    const Fast u1 = dot(Wr.row(j).data(), v1.data(), Wr.cols());
    const Fast u2 = dot(Wr.row(j).data(), v2.data(), Wr.cols());
    for (Index k = 0; k < Wr.cols(); ++k) tail.add(Fast(Wr(j, k)) - u1 * Fast(v1[k]) - u2 * Fast(v2[k]));
    wv_squares += boost::numeric::square(Fast(mig(u1)));
  }
  cert.sigma3_upper = tail.sqrt_upper();
  cert.sigma1_lower = (boost::numeric::sqrt(wv_squares) / Fast(norm(v1.data(), v1.size()).upper())).lower();
  cert.ratio_upper = cert.sigma1_lower > 0 ? (Fast(cert.sigma3_upper) / Fast(cert.sigma1_lower)).upper()
                                           : std::numeric_limits<double>::infinity();
  return cert;
}

FamilyCertificate certify_two_families(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W) {
  const Index m = net.width();
  const Index d = W.cols();
  FamilyCertificate fam;
  fam.p = Eigen::VectorXd::Zero(d);
  fam.q = Eigen::VectorXd::Zero(d);
  for (Index j = 0; j < m; ++j) (net.a[j] > 0 ? fam.p : fam.q) += W.row(j).transpose();
  fam.alpha.resize(m);
  for (Index j = 0; j < m; ++j) {
    const Eigen::VectorXd& dir = family_of(fam, net, j);
    const double dir2 = dir.squaredNorm();
    fam.alpha[j] = dir2 > 0 ? W.row(j).dot(dir) / dir2 : 0.0;
    if (dir2 > 0) fam.angle_float = std::max(fam.angle_float, angle_between(W.row(j).transpose(), dir));
  }
  const RowMajorMatrix Wr = W;
  const RoundingScope scope;
  SquaresUp distance;
  fam.positive = true;
  for (Index j = 0; j < m; ++j) {
    const Eigen::VectorXd& dir = family_of(fam, net, j);
    SquaresUp row;
    for (Index k = 0; k < d; ++k) {
      const Fast r = Fast(Wr(j, k)) - Fast(fam.alpha[j]) * Fast(dir[k]);
      row.add(r);
      distance.add(r);
    }
    const double w_low = norm(Wr.row(j).data(), d).lower();
    fam.positive = fam.positive && fam.alpha[j] > 0 && dot(Wr.row(j).data(), dir.data(), d).lower() > 0;
    const double sin_up = w_low > 0 ? (Fast(row.sqrt_upper()) / Fast(w_low)).upper() : 1.0;
    fam.angle_upper = std::max(fam.angle_upper, asin_upper(sin_up));
  }
  fam.distance_upper = distance.sqrt_upper();
  return fam;
}

BoundaryCertificate certify_linear_boundary(const Leaky2Net& net, const FamilyCertificate& families,
                                            const Eigen::Ref<const Eigen::VectorXd>& lambda) {
  BoundaryCertificate cert;
  const Index d = net.features();
  const Eigen::VectorXd coef = frei_coefficients(net, lambda);
  const RowMajorMatrix Xr = net.X;
  const RoundingScope scope;
  const std::vector<Fast> z = enclose_predictor(Xr, coef);
  Fast A(0.0);
  Fast B(0.0);
  Fast a_squares(0.0);
  for (Index j = 0; j < net.width(); ++j) {
    const Fast term = Fast(net.a[j]) * Fast(families.alpha[j]);
    if (net.a[j] > 0) {
      A += term;
    } else {
      B -= term;
    }
    a_squares += boost::numeric::square(Fast(net.a[j]));
  }
  cert.a_lower = A.lower();
  cert.b_lower = B.lower();
  std::vector<Fast> z2;
  z2.reserve(static_cast<std::size_t>(d));
  Fast z2_dot_z(0.0);
  Fast z2_squares(0.0);
  for (Index k = 0; k < d; ++k) {
    z2.push_back(A * Fast(families.p[k]) - B * Fast(families.q[k]));
    z2_dot_z += z2.back() * z[static_cast<std::size_t>(k)];
    z2_squares += boost::numeric::square(Fast(mig(z2.back())));
  }
  const double z2_low = boost::numeric::sqrt(z2_squares).lower();
  cert.proven = families.positive && net.gamma > 0 && cert.a_lower >= 0 && cert.b_lower >= 0 &&
                (cert.a_lower > 0 || cert.b_lower > 0) && z2_dot_z.lower() > 0 && z2_low > 0;
  if (!cert.proven) {
    cert.angle_upper = cert.wedge_upper = std::numbers::pi;
    return cert;
  }
  // dist(z₂, span z) ≤ ‖z₂ − t z‖ for any t: a double t near the projection coefficient suffices.
  Fast z_squares(0.0);
  for (const Fast& zk : z) z_squares += boost::numeric::square(zk);
  const double t = median(z2_dot_z / z_squares);
  SquaresUp off_line;
  for (Index k = 0; k < d; ++k) {
    off_line.add(z2[static_cast<std::size_t>(k)] - Fast(t) * z[static_cast<std::size_t>(k)]);
  }
  cert.angle_upper = asin_upper((Fast(off_line.sqrt_upper()) / Fast(z2_low)).upper());
  const Fast lipschitz = boost::numeric::sqrt(a_squares) * Fast(families.distance_upper);
  const double kappa1 = asin_upper((lipschitz / (Fast(net.gamma) * Fast(z2_low))).upper());
  cert.wedge_upper = (Fast(kappa1) + Fast(cert.angle_upper)).upper();
  return cert;
}

Eigen::VectorXd frei_predictor(const Leaky2Net& net, const Eigen::Ref<const Eigen::VectorXd>& lambda) {
  return net.X.transpose() * frei_coefficients(net, lambda);
}

}  // namespace kktflow
