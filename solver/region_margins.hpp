#pragma once
/// \file region_margins.hpp
/// The margins' ODE of one activation region (region_stepper.hpp),
///   dc/dσ = w(q + K c),   c(0) = 0,
/// stepped by a Rosenbrock W-method (ROS2 or ROS34PW2, RegionTableau) in the floating-point type of flow.precision
/// (precision.hpp), with the region's margins q carried in that type from step to step: after an accepted step q ← q +
/// K c. The state the driver holds stays double, but the weights come from these margins, not from the rounded state,
/// so rounding at the scale ‖θ‖ of the state never reaches the O(1) margin differences the weights depend on. K is
/// double (the Gram matrix of the region's margin gradients, rounded once), so the carried margins follow the exact
/// flow of a problem perturbed by u·‖K‖ once, not by u·‖θ‖ at every step.
#include "precision.hpp"
#include "problems/loss.hpp"

#include <Eigen/Dense>

#include <memory>

namespace kktflow {

/// A Rosenbrock W-method for the margins' ODE, in the stage form
///   (I − γhJ) k_i = f(c0 + h Σ_{j<i} α_ij k_j) + Σ_{j<i} γ_ij k_j,
///   c1 = c0 + h Σ m_i k_i,   error estimate h Σ e_i k_i,
/// which is Hairer & Wanner's transformed form (Solving ODEs II, (7.25)–(7.27)) with its stages
/// u_i = γh k_i, so it needs no product with J; ROS2's coefficients are then those of Verwer et
/// al. (region_stepper.hpp) exactly.
struct RegionTableau {
  int order = 0;             ///< of the method, for any J; the estimate's is order − 1
  bool exact_gamma = false;  ///< γ = 1 + 1/√2 (ROS2's), computed in the margins' type
  double gamma = 0;          ///< otherwise
  Eigen::MatrixXd alpha, c;  ///< s × s, strictly lower
  Eigen::VectorXd m, e;

  /// ROS2 (Verwer, Spee, Blom & Hundsdorfer 1999): order 2, L-stable.
  static RegionTableau ros2();
  /// ROS34PW2 (Rang & Angermann 2005): four stages, order 3 for any J, L-stable, stiffly accurate.
  static RegionTableau ros34pw2();
  Eigen::Index stages() const { return m.size(); }
};

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
  /// c after one step of length h from the carried margins, and its error estimate, both
  /// rounded to double.
  virtual void step(const MarginLoss& loss, double h, Eigen::VectorXd& c, Eigen::VectorXd& c_err) = 0;
  /// The last step was accepted: q ← q + K c.
  virtual void accept() = 0;
  /// The carried margins, each split exactly into doubles (empty when there are none), for a
  /// checkpoint; restore(memory()) continues bit for bit.
  virtual Eigen::VectorXd memory() const = 0;
  /// Throws std::invalid_argument when `memory` does not hold whole values of this precision.
  virtual void restore(const Eigen::VectorXd& memory) = 0;
};

std::unique_ptr<RegionMargins> make_region_margins(const Precision& precision,
                                                   const RegionTableau& tableau = RegionTableau::ros2());

}  // namespace kktflow
