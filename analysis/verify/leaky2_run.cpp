#include "analysis/verify/leaky2_run.hpp"

#include <stdexcept>

namespace kktflow {

Leaky2Run leaky2_run(const RunData& data) {
  if (data.kind != "leaky2_fixed_outer")
    throw std::invalid_argument("model kind '" + data.kind + "': this view knows only leaky2_fixed_outer");
  const auto gamma = data.model_attrs.find("gamma");
  if (gamma == data.model_attrs.end()) throw std::invalid_argument("/model has no attribute 'gamma'");
  Leaky2Run run{make_leaky2_net(data.X, data.y, data.outer, std::stod(gamma->second)),
                {},
                {},
                data.trajectory,
                data.loss,
                data.rel_tol};
  const Eigen::Index m = run.net.width(), d = run.net.features();
  if (data.theta_final.size() != m * d)
    throw std::invalid_argument("θ_T has " + std::to_string(data.theta_final.size()) +
                                " entries, not m d = " + std::to_string(m * d));
  run.W_final = weights_from_theta(data.theta_final, m, d);
  for (const Eigen::VectorXd& theta : data.snapshots) run.snapshots.push_back(weights_from_theta(theta, m, d));
  return run;
}

}  // namespace kktflow
