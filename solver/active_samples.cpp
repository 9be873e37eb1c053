#include "active_samples.hpp"

#include <algorithm>
#include <numeric>

namespace kktflow {

namespace {

constexpr double kDroppedPart = 1e-2;          // ours: the largest part of hαJ set aside (file comment)
constexpr Eigen::Index kMinReducedSize = 256;  // ours: below it an O(n³) factorization takes milliseconds

}  // namespace

bool split_samples(const Eigen::VectorXd& v, double scale, SampleSplit& split) {
  split.active.clear();
  split.inactive.clear();
  if (v.size() < kMinReducedSize) return false;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(v.size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](Eigen::Index i, Eigen::Index k) { return v[i] < v[k]; });
  double dropped = 0;
  std::size_t set_aside = 0;
  // At least one sample stays: where h J is that small everywhere, the matrix is I to 1% and its factors are 1 × 1.
  while (set_aside + 1 < order.size() && scale * (dropped + v[order[set_aside]]) <= kDroppedPart)
    dropped += v[order[set_aside++]];
  if (4 * set_aside < order.size()) return false;
  split.inactive.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(set_aside));
  split.active.assign(order.begin() + static_cast<std::ptrdiff_t>(set_aside), order.end());
  std::sort(split.active.begin(), split.active.end());
  std::sort(split.inactive.begin(), split.inactive.end());
  return true;
}

}  // namespace kktflow
