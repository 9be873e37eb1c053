#pragma once
/// \file run_data.hpp
/// A finished run held in memory, as the claims read it: data, model description, trajectory,
/// snapshots and final θ. analysis/io fills it from a run file; tests build it directly.
#include "solver/record.hpp"

#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

namespace kktflow {

struct RunData {
  std::string kind;                                ///< model kind, e.g. "leaky2_fixed_outer"
  std::map<std::string, std::string> model_attrs;  ///< every model attribute, as text (/model)
  std::string config;                              ///< the resolved TOML configuration
  Eigen::MatrixXd X;                               ///< n × d, one sample per row
  Eigen::VectorXd y;                               ///< n labels
  Eigen::VectorXd outer;                           ///< the fixed outer layer a; empty when the model has none
  Eigen::VectorXd theta_final;                     ///< θ at the end of the run
  std::vector<Eigen::VectorXd> snapshots;          ///< θ at the recorded snapshots, θ(0) first
  std::vector<Record> trajectory;                  ///< every complete trajectory row
  std::string loss;                                ///< "exp", "logistic" or "square"
  double rel_tol = 0;                              ///< flow.rel_tol of the configuration
};

}  // namespace kktflow
