#pragma once
/// \file param_checks.hpp
/// The range checks of model parameters (model.*): each throws std::invalid_argument naming the
/// key, the value and the allowed range, as LBFGSpp's parameter checks do.
#include <Eigen/Core>

#include <cmath>
#include <stdexcept>
#include <string>

namespace kktflow {

/// A count: an integer ≥ 1.
inline void require_count(const std::string& key, Eigen::Index value) {
  if (value < 1) throw std::invalid_argument(key + " = " + std::to_string(value) + ": must be an integer ≥ 1");
}

/// A leaky slope: in [0, 1).
inline void require_slope(const std::string& key, double value) {
  if (!(value >= 0.0 && value < 1.0))
    throw std::invalid_argument(key + " = " + std::to_string(value) + ": must be in [0, 1)");
}

/// A scale: finite and > 0 (or ≥ 0 where zero is allowed).
inline void require_scale(const std::string& key, double value, bool zero_allowed = false) {
  const bool ok = std::isfinite(value) && (zero_allowed ? value >= 0.0 : value > 0.0);
  if (!ok)
    throw std::invalid_argument(key + " = " + std::to_string(value) + ": must be a finite number " +
                                (zero_allowed ? "≥ 0" : "> 0"));
}

}  // namespace kktflow
