#define BOOST_TEST_MODULE cone_qp
#include "analysis/verify/cone_qp.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using kktflow::ConeQpResult;
using kktflow::ConeStructure;
using kktflow::solve_cone_qp;

namespace {

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&] { return normal(rng); });
}

double objective(const Eigen::MatrixXd& H, const Eigen::VectorXd& b, const Eigen::VectorXd& v) {
  return 0.5 * v.dot(H * v) - b.dot(v);
}

/// Brute force for one head (index 0) with tails 1..k: every face of the cone (head zero, or
/// head free with each tail at γλ, at λ or free) is solved as an equality-constrained least
/// squares; the best feasible face minimum is the QP's minimum (the QP is convex).
double brute_force_minimum(const Eigen::MatrixXd& H, const Eigen::VectorXd& b, double gamma) {
  const Eigen::Index k = b.size() - 1;
  double best = 0.0;  // the zero face
  int faces = 1;
  for (Eigen::Index t = 0; t < k; ++t) faces *= 3;
  for (int code = 0; code < faces; ++code) {
    // Substitution v = T x: column 0 is the head with its tied tails, then one column per free tail.
    std::vector<Eigen::VectorXd> columns{Eigen::VectorXd::Unit(k + 1, 0)};
    int c = code;
    for (Eigen::Index t = 1; t <= k; ++t, c /= 3) {
      if (c % 3 == 2) {
        columns.push_back(Eigen::VectorXd::Unit(k + 1, t));
      } else {
        columns[0][t] = c % 3 == 0 ? gamma : 1.0;
      }
    }
    Eigen::MatrixXd T(k + 1, static_cast<Eigen::Index>(columns.size()));
    for (std::size_t j = 0; j < columns.size(); ++j) T.col(static_cast<Eigen::Index>(j)) = columns[j];
    const Eigen::VectorXd v = T * (T.transpose() * H * T).ldlt().solve(T.transpose() * b);
    bool feasible = v[0] >= -1e-12;
    for (Eigen::Index t = 1; t <= k; ++t) feasible = feasible && v[t] >= gamma * v[0] - 1e-12 && v[t] <= v[0] + 1e-12;
    if (feasible) best = std::min(best, objective(H, b, v));
  }
  return best;
}

}  // namespace

BOOST_AUTO_TEST_CASE(nonnegative_least_squares_matches_a_closed_form) {
  // min ½‖v − c‖² over v ≥ 0 is v = max(c, 0).
  const Eigen::VectorXd c = (Eigen::VectorXd(5) << 1.5, -2.0, 0.0, 3.0, -0.5).finished();
  ConeStructure cone{{0, 1, 2, 3, 4}, std::vector<std::vector<Eigen::Index>>(5), 0.0};
  const ConeQpResult r = solve_cone_qp(Eigen::MatrixXd::Identity(5, 5), c, cone);
  BOOST_TEST(r.converged);
  BOOST_TEST((r.v - c.cwiseMax(0.0)).norm() < 1e-14);
}

BOOST_AUTO_TEST_CASE(clarke_group_matches_brute_force) {
  // One multiplier λ with three kink shares μ_t ∈ [γλ, λ], random least-squares data.
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const Eigen::MatrixXd G = random_matrix(7, 4, seed);
    const Eigen::VectorXd g = random_matrix(7, 1, 100 + seed);
    const Eigen::MatrixXd H = G.transpose() * G;
    const Eigen::VectorXd b = G.transpose() * g;
    const double gamma = 0.3;
    const ConeQpResult r = solve_cone_qp(H, b, {{0}, {{1, 2, 3}}, gamma});
    BOOST_TEST_CONTEXT("seed " << seed) {
      BOOST_TEST(r.converged);
      BOOST_TEST(r.v[0] >= 0.0);
      for (int t = 1; t <= 3; ++t) {
        BOOST_TEST(r.v[t] >= gamma * r.v[0] - 1e-14);
        BOOST_TEST(r.v[t] <= r.v[0] + 1e-14);
      }
      BOOST_TEST(std::abs(objective(H, b, r.v) - brute_force_minimum(H, b, gamma)) < 1e-12 * (1 + b.squaredNorm()));
    }
  }
}

BOOST_AUTO_TEST_CASE(warm_started_large_problem_meets_its_optimality_conditions) {
  // 80 groups of one head and two tails (240 variables): above the ADMM warm-start size.
  const Eigen::Index groups = 80;
  const Eigen::MatrixXd G = random_matrix(400, 3 * groups, 7);
  const Eigen::VectorXd g = random_matrix(400, 1, 8);
  ConeStructure cone;
  cone.ratio_low = 0.1;
  for (Eigen::Index h = 0; h < groups; ++h) {
    cone.heads.push_back(3 * h);
    cone.tails.push_back({3 * h + 1, 3 * h + 2});
  }
  const Eigen::MatrixXd H = G.transpose() * G;
  const Eigen::VectorXd b = G.transpose() * g;
  const ConeQpResult r = solve_cone_qp(H, b, cone);
  BOOST_TEST(r.converged);
  // KKT for the cone: no feasible direction from v decreases the objective to first order. The
  // directions checked: a group's head scaled with its tails (λ, μ) → (1 + s)(λ, μ), each tail
  // moved alone inside its interval, and a zero group moved to each vertex of its cone.
  const Eigen::VectorXd grad = H * r.v - b;
  const double tol = 1e-9 * b.cwiseAbs().maxCoeff();
  for (Eigen::Index h = 0; h < groups; ++h) {
    const Eigen::Index i = 3 * h;
    const double lambda = r.v[i];
    if (lambda > 0) {
      BOOST_TEST(std::abs(grad.segment(i, 3).dot(r.v.segment(i, 3))) < tol * r.v.segment(i, 3).lpNorm<1>());
      for (Eigen::Index t = i + 1; t <= i + 2; ++t) {
        if (r.v[t] < lambda * (1 - 1e-9)) BOOST_TEST(grad[t] > -tol);
        if (r.v[t] > cone.ratio_low * lambda * (1 + 1e-9)) BOOST_TEST(grad[t] < tol);
      }
    } else {
      BOOST_TEST(grad[i] + std::min(cone.ratio_low * grad[i + 1], grad[i + 1]) +
                     std::min(cone.ratio_low * grad[i + 2], grad[i + 2]) >
                 -tol);
    }
  }
}

BOOST_AUTO_TEST_CASE(unbounded_objective_is_reported) {
  // min −v0 + ½ v1² over v0 ≥ 0: unbounded along v0 (the dual of an infeasible primal).
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(2, 2);
  H(1, 1) = 1;
  const ConeQpResult r = solve_cone_qp(H, Eigen::Vector2d(1.0, 0.0), {{0}, {{}}, 0.0});
  BOOST_TEST(r.unbounded);
}

BOOST_AUTO_TEST_CASE(semidefinite_but_bounded_problem_converges) {
  // min ½(v0 − v1)² − (v0 − v1) over v ≥ 0: ker H holds (1, 1), b ⟂ it; minimum value −½.
  const Eigen::Matrix2d H = (Eigen::Matrix2d() << 1, -1, -1, 1).finished();
  const ConeQpResult r = solve_cone_qp(H, Eigen::Vector2d(1.0, -1.0), {{0, 1}, {{}, {}}, 0.0});
  BOOST_TEST(r.converged);
  BOOST_TEST(!r.unbounded);
  BOOST_TEST(std::abs(objective(H, Eigen::Vector2d(1.0, -1.0), r.v) + 0.5) < 1e-14);
}

BOOST_AUTO_TEST_CASE(inconsistent_structure_is_rejected) {
  BOOST_CHECK_THROW(solve_cone_qp(Eigen::MatrixXd::Identity(2, 2), Eigen::Vector2d(1, 1), {{0, 0}, {{}, {}}, 0.0}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(solve_cone_qp(Eigen::MatrixXd::Identity(2, 2), Eigen::Vector2d(1, 1), {{0}, {{1}}, 1.0}),
                    std::invalid_argument);
}
