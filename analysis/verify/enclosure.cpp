#include "analysis/verify/enclosure.hpp"

#include "analysis/verify/interval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using interval::Fast;
using interval::RoundingScope;

constexpr double kUnitRoundoff = std::numeric_limits<double>::epsilon() / 2;
constexpr double kUnderflow = std::numeric_limits<double>::denorm_min();

/// γ_k as an interval; valid inside a RoundingScope.
Fast gamma_interval(Index k) {
  const Fast ku = Fast(static_cast<double>(k)) * Fast(kUnitRoundoff);
  return ku / (Fast(1.0) - ku);
}

/// a + b entrywise, rounded up.
Eigen::MatrixXd sum_upper(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd out(a.rows(), a.cols());
  const RoundingScope scope;
  for (Index k = 0; k < a.size(); ++k) out.data()[k] = (Fast(a.data()[k]) + Fast(b.data()[k])).upper();
  return out;
}

/// A vector of intervals as a one-column enclosure.
MidRad column_enclosure(const std::vector<Fast>& v) {
  MidRad out{Eigen::MatrixXd(static_cast<Index>(v.size()), 1), Eigen::MatrixXd(static_cast<Index>(v.size()), 1)};
  const RoundingScope scope;
  for (std::size_t k = 0; k < v.size(); ++k) {
    const double mid = median(v[k]);
    out.mid(static_cast<Index>(k), 0) = mid;
    out.rad(static_cast<Index>(k), 0) =
        std::max((Fast(v[k].upper()) - Fast(mid)).upper(), (Fast(mid) - Fast(v[k].lower())).upper());
  }
  return out;
}

/// b − A x̃ for every A in the enclosure.
std::vector<Fast> residual(const MidRad& A, const Eigen::VectorXd& b, const Eigen::VectorXd& x) {
  std::vector<Fast> r;
  const RoundingScope scope;
  for (Index i = 0; i < A.mid.rows(); ++i) {
    Fast sum(b[i]);
    for (Index k = 0; k < A.mid.cols(); ++k) sum -= interval::around(A.mid(i, k), A.rad(i, k)) * Fast(x[k]);
    r.push_back(sum);
  }
  return r;
}

/// max_i Σ_k |δ_ik − C_ik| over the enclosure C, rounded up: ‖I − C‖_∞.
double distance_to_identity(const MidRad& C) {
  double worst = 0;
  const RoundingScope scope;
  for (Index i = 0; i < C.mid.rows(); ++i) {
    Fast row(0.0);
    for (Index k = 0; k < C.mid.cols(); ++k) {
      row += Fast(interval::mag(Fast(i == k ? 1.0 : 0.0) - interval::around(C.mid(i, k), C.rad(i, k))));
    }
    worst = std::max(worst, row.upper());
  }
  return worst;
}

}  // namespace

double gamma_upper(Index k) {
  const RoundingScope scope;
  return gamma_interval(k).upper();
}

DotEnclosure dot2(const double* x, const double* y, Index n) {
  double p = x[0] * y[0];
  double s = std::fma(x[0], y[0], -p);
  double h_abs = std::abs(p);
  for (Index i = 1; i < n; ++i) {
    const double h = x[i] * y[i];
    const double r = std::fma(x[i], y[i], -h);
    const double t = p + h;  // TwoSum(p, h) = (t, q), Knuth's branch-free form
    const double back = t - p;
    const double q = (p - (t - back)) + (h - back);
    p = t;
    s += q + r;
    h_abs += std::abs(h);
  }
  DotEnclosure out{p, s, 0.0};
  const RoundingScope scope;
  // H ≤ fl(Σ|h_i|)/(1 − γ_n): the computed sum of non-negative terms is ≥ (1 − γ_n) × the exact one.
  const Fast g = gamma_interval(n);
  const Fast h_upper = Fast(h_abs) / (Fast(1.0) - g);
  out.err = (g * g * h_upper + Fast(static_cast<double>(n)) * Fast(kUnderflow)).upper();
  return out;
}

MidRad exact_enclosure(const Eigen::MatrixXd& A) { return {A, Eigen::MatrixXd::Zero(A.rows(), A.cols())}; }

Eigen::MatrixXd product_upper(const Eigen::MatrixXd& P, const Eigen::MatrixXd& Q) {
  Eigen::MatrixXd out = P * Q;
  const Index k = P.cols();
  const RoundingScope scope;
  const Fast factor = Fast(1.0) / (Fast(1.0) - gamma_interval(k));
  const Fast floor = Fast(static_cast<double>(k)) * Fast(kUnderflow);
  for (Index e = 0; e < out.size(); ++e) out.data()[e] = ((Fast(out.data()[e]) + floor) * factor).upper();
  return out;
}

MidRad enclose_product(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  MidRad out{A * B, product_upper(A.cwiseAbs(), B.cwiseAbs())};
  const Index k = A.cols();
  const RoundingScope scope;
  const Fast g = gamma_interval(k);
  const Fast floor = Fast(static_cast<double>(k)) * Fast(kUnderflow);
  for (Index e = 0; e < out.rad.size(); ++e) out.rad.data()[e] = (g * Fast(out.rad.data()[e]) + floor).upper();
  return out;
}

MidRad enclose_product(const MidRad& A, const MidRad& B) {
  MidRad out = enclose_product(A.mid, B.mid);
  const Eigen::MatrixXd spread_a = product_upper(A.rad, sum_upper(B.mid.cwiseAbs(), B.rad));
  const Eigen::MatrixXd spread_b = product_upper(A.mid.cwiseAbs(), B.rad);
  const RoundingScope scope;
  for (Index e = 0; e < out.rad.size(); ++e) {
    out.rad.data()[e] = (Fast(out.rad.data()[e]) + Fast(spread_a.data()[e]) + Fast(spread_b.data()[e])).upper();
  }
  return out;
}

}  // namespace kktflow

namespace kktflow {

SolveEnclosure enclose_solution(const MidRad& A, const Eigen::VectorXd& b) {
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(A.mid);
  SolveEnclosure out{lu.solve(b), std::numeric_limits<double>::infinity(), false};
  const Eigen::MatrixXd R = lu.inverse();
  const double contraction = distance_to_identity(enclose_product(exact_enclosure(R), A));
  if (!(contraction < 1)) return out;
  const MidRad correction = enclose_product(exact_enclosure(R), column_enclosure(residual(A, b, out.mid)));
  const RoundingScope scope;
  Fast largest(0.0);
  for (Index k = 0; k < correction.mid.rows(); ++k) {
    largest = max(largest, Fast(std::abs(correction.mid(k, 0))) + Fast(correction.rad(k, 0)));
  }
  out.rad = (largest / (Fast(1.0) - Fast(contraction))).upper();
  out.verified = std::isfinite(out.rad);
  return out;
}

bool certify_positive_definite(const MidRad& A) {
  const Index n = A.mid.rows();
  std::vector<Fast> L(static_cast<std::size_t>(n * n), Fast(0.0));
  auto at = [&](Index i, Index j) -> Fast& { return L[static_cast<std::size_t>(i * n + j)]; };
  const RoundingScope scope;
  for (Index j = 0; j < n; ++j) {
    Fast pivot = interval::around(A.mid(j, j), A.rad(j, j));
    for (Index k = 0; k < j; ++k) pivot -= square(at(j, k));
    if (!(pivot.lower() > 0)) return false;
    at(j, j) = sqrt(pivot);
    for (Index i = j + 1; i < n; ++i) {
      Fast entry = interval::around(A.mid(i, j), A.rad(i, j));
      for (Index k = 0; k < j; ++k) entry -= at(i, k) * at(j, k);
      at(i, j) = entry / at(j, j);
    }
  }
  return true;
}

}  // namespace kktflow
