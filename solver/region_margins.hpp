#pragma once
/// \file region_margins.hpp
/// The margins' ODE of one activation region (region_stepper.hpp),
///   dc/dσ = w(q + K c),   c(0) = 0,
/// stepped by ROS2 in the floating-point type of flow.precision (precision.hpp), with the
/// region's margins q carried in that type from step to step: after an accepted step
/// q ← q + K c. The state the driver holds stays double, but the weights come from these
/// margins, not from the rounded state, so rounding at the scale ‖θ‖ of the state never reaches
/// the O(1) margin differences the weights depend on. K is double (the Gram matrix of the
/// region's margin gradients, rounded once), so the carried margins follow the exact flow of a
/// problem perturbed by u·‖K‖ once, not by u·‖θ‖ at every step.
#include "precision.hpp"
#include "problems/loss.hpp"

#include <Eigen/Dense>

#include <memory>

namespace kktflow {

class RegionMargins {
 public:
  virtual ~RegionMargins() = default;

  /// The region's K = ∂q/∂c (n × n).
  virtual void set_gram(const Eigen::MatrixXd& K) = 0;
  /// Starts the carried margins at q (from the double state, at a region's first step).
  virtual void set_margins(const Eigen::VectorXd& q) = 0;
  virtual bool has_margins() const = 0;
  /// Forgets the margins (the region changed).
  virtual void clear() = 0;
  /// c after one ROS2 step of length h from the carried margins, and its error estimate,
  /// both rounded to double.
  virtual void step(const MarginLoss& loss, double h, Eigen::VectorXd& c, Eigen::VectorXd& c_err) = 0;
  /// The last step was accepted: q ← q + K c.
  virtual void accept() = 0;
  /// The carried margins, each split exactly into doubles (empty when there are none), for a
  /// checkpoint; restore(memory()) continues bit for bit.
  virtual Eigen::VectorXd memory() const = 0;
  /// Throws std::invalid_argument when `memory` does not hold whole values of this precision.
  virtual void restore(const Eigen::VectorXd& memory) = 0;
};

std::unique_ptr<RegionMargins> make_region_margins(const Precision& precision);

}  // namespace kktflow
