#pragma once
/// \file init.hpp
/// θ(0) with independent N(0, ω²) entries from a seed: the small initialisation of the papers
/// (Lyu et al. 2021 §3, Le & Jegelka 2022 §5) for models without a structured one.
#include <Eigen/Dense>

#include <cstdint>
#include <random>

namespace kktflow {

inline Eigen::VectorXd gaussian_theta(Eigen::Index dim, double scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Eigen::VectorXd theta(dim);
  for (Eigen::Index k = 0; k < dim; ++k) theta[k] = normal(rng);
  return theta;
}

}  // namespace kktflow
