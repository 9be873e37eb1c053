#pragma once
/// \file init.hpp
/// Initial parameters:
///  - gaussian_theta: θ(0) with independent N(0, ω²) entries from a seed, the small
///    initialisation of the papers (Lyu et al. 2021 §3, Le & Jegelka 2022 §5) for models without a
///    structured one;
///  - warm_start_theta: θ(0) = c θ̂ along a given direction (another run's limit), with c chosen so
///    that min_i y_i f(x_i; θ(0)) = margin, i.e. c = (margin / q_min(θ̂))^{1/L} by L-homogeneity.
///    When θ̂ does not separate the data (q_min(θ̂) ≤ 0) c = margin^{1/L}, as if q_min(θ̂) were 1.
///    Continuation sweeps start each case there, so the flow follows the branch of KKT points
///    from where the previous parameter's limit left it, already in the late phase.
#include "model.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

namespace kktflow {

inline Eigen::VectorXd gaussian_theta(Eigen::Index dim, double scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  Eigen::VectorXd theta(dim);
  for (Eigen::Index k = 0; k < dim; ++k) theta[k] = normal(rng);
  return theta;
}

/// Throws std::invalid_argument when `direction` is zero or not finite, or has not model.dim() entries.
inline Eigen::VectorXd warm_start_theta(Model& model, const Eigen::VectorXd& y, const Eigen::VectorXd& direction,
                                        double margin) {
  if (direction.size() != model.dim())
    throw std::invalid_argument("the warm-start direction has " + std::to_string(direction.size()) +
                                " parameters; model." + "kind = \"" + model.kind() + "\" here has " +
                                std::to_string(model.dim()));
  const double norm = direction.norm();
  if (!(norm > 0 && std::isfinite(norm))) throw std::invalid_argument("the warm-start direction is zero or not finite");
  const Eigen::VectorXd unit = direction / norm;
  Eigen::VectorXd F(model.num_samples() * model.num_outputs());
  model.forward(unit, F);
  const double q_min = y.cwiseProduct(F).minCoeff();
  const double scale = std::pow(q_min > 0 ? margin / q_min : margin, 1.0 / model.homogeneity());
  return scale * unit;
}

}  // namespace kktflow
