#pragma once
/// \file competitors.hpp
/// Competitors for Frei et al.'s global max-margin claim: feasible points of
///   max min_i q_i(W)/‖W‖_F
/// that do not come from the flow under test. Each is an exact point, its margin evaluated on
/// the true network (not the QP's linearization):
///  - the two-family lift of the linear SVM direction w*: rows α w* (a_j > 0) and −β w*
///    (a_j < 0), the best ratio α:β on a grid (ours: 2001 points);
///  - pattern QPs (kkt.hpp polish) over other activation patterns: Frei's sign(a_j y_i) pattern
///    (also the pattern of every SVM lift), patterns of the limit perturbed by noise, random
///    flips of the limit's pattern, and the patterns reached by normalized gradient descent on
///    the exponential loss from other seeded small initializations.
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/svm.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

struct Competitor {
  std::string label;
  double margin = 0;      ///< min_i q_i / ‖W‖_F of the competitor (−∞ when its QP has no solution)
  bool feasible = false;  ///< margin > 0: a point of the max-margin problem after rescaling
};

/// How many competitors of each kind (ours); `seed` makes every random draw reproducible.
struct CompetitorSettings {
  std::vector<double> perturbations{0.3, 1.0};  ///< noise ‖ΔW‖_F / ‖W‖_F added to the limit
  std::vector<double> flip_rates{0.02, 0.1};    ///< fraction of the limit's pattern entries flipped
  int gd_inits = 3;                             ///< gradient-descent runs from other inits
  int gd_steps = 800;                           ///< their steps (normalized GD, step 0.05 ‖W‖)
  Eigen::Index max_sign_constraints = 1500;     ///< cap of each pattern QP (see polish)
  std::uint64_t seed = 2023;
};

/// W_limit is the direction under test (for perturbations and flips); svm the data's linear SVM.
std::vector<Competitor> find_competitors(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W_limit,
                                         const LinearSvm& svm, const CompetitorSettings& settings);

}  // namespace kktflow
