#include "analysis/verify/limit_region.hpp"

#include "analysis/verify/interval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using interval::Fast;
using interval::RoundingScope;

/// mid ± rad of an interval, rad rounded up. Inside a RoundingScope.
void store(const Fast& x, double& mid, double& rad) {
  mid = median(x);
  rad = std::max((Fast(x.upper()) - Fast(mid)).upper(), (Fast(mid) - Fast(x.lower())).upper());
}

/// z ∈ hi + lo ± err as an interval. Inside a RoundingScope.
Fast as_interval(const DotEnclosure& e) { return Fast(e.hi) + Fast(e.lo) + Fast(-e.err, e.err); }

/// The shifts q_i − q_ref of the enclosed margins, q_ref their floating-point minimum.
MarginBounds relative_margins(const std::vector<DotEnclosure>& q) {
  MarginBounds out;
  out.q_ref = std::numeric_limits<double>::infinity();
  for (const DotEnclosure& e : q) out.q_ref = std::min(out.q_ref, e.hi + e.lo);
  const auto n = static_cast<Index>(q.size());
  out.lo.resize(n);
  out.hi.resize(n);
  const RoundingScope scope;
  for (Index i = 0; i < n; ++i) {
    const DotEnclosure& e = q[static_cast<std::size_t>(i)];
    const Fast r = (Fast(e.hi) - Fast(out.q_ref)) + Fast(e.lo) + Fast(-e.err, e.err);
    out.lo[i] = r.lower();
    out.hi[i] = r.upper();
  }
  return out;
}

/// y_i x with x enclosed: the sign flip is exact.
DotEnclosure signed_by(double y, DotEnclosure e) {
  if (y < 0) e.hi = -e.hi, e.lo = -e.lo;
  return e;
}

/// q_i = y_i Σ_j c_ji z_ji, c_ji = a_j φ'_ji = c_hi + c_lo exactly (TwoProduct), each z_ji
/// enclosed: a dot2 over the 4m products of the parts, plus Σ_j |c_ji| err(z_ji).
std::vector<DotEnclosure> net_margins(const Leaky2Net& net, const NetPattern& pattern) {
  const Index m = net.width();
  const Index n = net.samples();
  std::vector<DotEnclosure> q;
  std::vector<double> u(static_cast<std::size_t>(4 * m));
  std::vector<double> v(static_cast<std::size_t>(4 * m));
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < m; ++j) {
      const double c_hi = net.a[j] * pattern.slopes(j, i);
      const double c_lo = std::fma(net.a[j], pattern.slopes(j, i), -c_hi);
      const DotEnclosure& z = pattern.pre[static_cast<std::size_t>(j * n + i)];
      const auto k = static_cast<std::size_t>(4 * j);
      u[k] = u[k + 1] = c_hi;
      u[k + 2] = u[k + 3] = c_lo;
      v[k] = v[k + 2] = z.hi;
      v[k + 1] = v[k + 3] = z.lo;
    }
    q.push_back(dot2(u.data(), v.data(), 4 * m));
  }
  const RoundingScope scope;
  for (Index i = 0; i < n; ++i) {
    Fast err(q[static_cast<std::size_t>(i)].err);
    for (Index j = 0; j < m; ++j) {
      const double c = std::abs(net.a[j] * pattern.slopes(j, i));
      err += Fast(c) * Fast(2.0) *
             Fast(pattern.pre[static_cast<std::size_t>(j * n + i)].err);  // 2|c_hi| ≥ |c_hi| + |c_lo|
    }
    q[static_cast<std::size_t>(i)].err = err.upper();
    q[static_cast<std::size_t>(i)] = signed_by(net.y[i], q[static_cast<std::size_t>(i)]);
  }
  return q;
}

MidRad transposed(const MidRad& A) { return {A.mid.transpose(), A.rad.transpose()}; }

}  // namespace

NetPattern net_pattern(const Leaky2Net& net, const Eigen::MatrixXd& W) {
  const Index m = net.width();
  const Index n = net.samples();
  const RowMajorMatrix Wr = W;
  const RowMajorMatrix Xr = net.X;
  NetPattern out{Pattern::Zero(m, n), Eigen::MatrixXd::Constant(m, n, net.gamma), {}, 0, 0};
  out.pre.reserve(static_cast<std::size_t>(m * n));
  for (Index j = 0; j < m; ++j)
    for (Index i = 0; i < n; ++i) out.pre.push_back(dot2(Wr.row(j).data(), Xr.row(i).data(), W.cols()));
  const Eigen::VectorXd w_norms = W.rowwise().norm();
  const Eigen::VectorXd x_norms = net.X.rowwise().norm();
  const RoundingScope scope;
  for (Index j = 0; j < m; ++j) {
    for (Index i = 0; i < n; ++i) {
      const DotEnclosure& e = out.pre[static_cast<std::size_t>(j * n + i)];
      const Fast z = as_interval(e);
      out.signs(j, i) = z.lower() > 0 ? 1 : z.upper() < 0 ? -1 : 0;
      if (out.signs(j, i) > 0) out.slopes(j, i) = 1.0;
      out.not_strict += out.signs(j, i) == 0;
      out.kinks += std::abs(e.hi + e.lo) <= kKinkThreshold * w_norms[j] * x_norms[i];
    }
  }
  return out;
}

Region net_region(const Leaky2Net& net, const NetPattern& pattern, const MidRad& gram) {
  const Index n = net.samples();
  MidRad U{Eigen::MatrixXd(net.width(), n), Eigen::MatrixXd(net.width(), n)};  // a_j φ'_ji = c_hi + c_lo
  for (Index j = 0; j < net.width(); ++j) {
    for (Index i = 0; i < n; ++i) {
      U.mid(j, i) = net.a[j] * pattern.slopes(j, i);
      U.rad(j, i) = std::abs(std::fma(net.a[j], pattern.slopes(j, i), -U.mid(j, i)));
    }
  }
  const MidRad P = enclose_product(transposed(U), U);
  Region region{{Eigen::MatrixXd(n, n), Eigen::MatrixXd(n, n)}, relative_margins(net_margins(net, pattern))};
  const RoundingScope scope;
  for (Index i = 0; i < n; ++i) {
    for (Index k = 0; k < n; ++k) {
      const Fast entry = Fast(net.y[i] * net.y[k]) * interval::around(gram.mid(i, k), gram.rad(i, k)) *
                         interval::around(P.mid(i, k), P.rad(i, k));
      store(entry, region.K.mid(i, k), region.K.rad(i, k));
    }
  }
  return region;
}

Region linear_region(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& theta,
                     const MidRad& gram) {
  const Index n = X.rows();
  const RowMajorMatrix Xr = X;
  std::vector<DotEnclosure> q;
  for (Index i = 0; i < n; ++i) q.push_back(signed_by(y[i], dot2(theta.data(), Xr.row(i).data(), X.cols())));
  Region region{{Eigen::MatrixXd(n, n), Eigen::MatrixXd(n, n)}, relative_margins(q)};
  for (Index i = 0; i < n; ++i) {
    for (Index k = 0; k < n; ++k) {
      region.K.mid(i, k) = y[i] * y[k] * gram.mid(i, k);  // exact: y = ±1
      region.K.rad(i, k) = gram.rad(i, k);
    }
  }
  return region;
}

Eigen::MatrixXd net_limit(const Leaky2Net& net, const NetPattern& pattern, const Eigen::VectorXd& lambda) {
  Eigen::MatrixXd C(net.width(), net.samples());  // W* = C X, C_jk = a_j y_k φ'_jk λ̂_k
  for (Index j = 0; j < net.width(); ++j)
    for (Index k = 0; k < net.samples(); ++k) C(j, k) = net.a[j] * net.y[k] * pattern.slopes(j, k) * lambda[k];
  return C * net.X;
}

}  // namespace kktflow
