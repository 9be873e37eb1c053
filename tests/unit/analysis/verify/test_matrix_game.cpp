/// \file test_matrix_game.cpp
/// The value of zero-sum matrix games (analysis/matrix_game.hpp) against games solved by hand.
#define BOOST_TEST_MODULE matrix_game
#include <boost/test/unit_test.hpp>

#include "analysis/verify/matrix_game.hpp"

#include <cmath>

using namespace kktflow;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(rock_paper_scissors_is_fair_and_uniform) {
  // Symmetric and skew: value 0, the only optimal strategies uniform.
  Eigen::Matrix3d A;
  A << 0, -1, 1, 1, 0, -1, -1, 1, 0;
  const GameSolution g = solve_matrix_game(A);
  BOOST_TEST(g.converged);
  BOOST_TEST(std::abs(g.value) <= 1e-14);
  for (int k = 0; k < 3; ++k) BOOST_TEST(g.columns[k] == 1.0 / 3, tt::tolerance(1e-14));
  for (int k = 0; k < 3; ++k) BOOST_TEST(g.rows[k] == 1.0 / 3, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(two_by_two_mixed_equilibrium) {
  // Rows 2 − a and 3a for p = (a, 1 − a) are equal at a = 1/2: value 3/2. The row player mixes
  // (3/4, 1/4): 1·q1 + 3·q2 = 2·q1 + 0·q2.
  Eigen::Matrix2d A;
  A << 1, 2, 3, 0;
  const GameSolution g = solve_matrix_game(A);
  BOOST_TEST(g.value == 1.5, tt::tolerance(1e-14));
  BOOST_TEST(g.columns[0] == 0.5, tt::tolerance(1e-14));
  BOOST_TEST(g.rows[0] == 0.75, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(dominated_columns_get_no_weight) {
  // Column 1 beats column 2 in every row, and column 0 beats nothing: the pure strategy 1, value 2.
  Eigen::Matrix<double, 2, 3> A;
  A << 0, 2, 1, -1, 3, 2;
  const GameSolution g = solve_matrix_game(A);
  BOOST_TEST(g.value == 2.0, tt::tolerance(1e-14));
  BOOST_TEST(g.columns[1] == 1.0, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(many_columns_match_the_closed_form) {
  // Columns (cos φ_k, sin φ_k) of angles on [0, π/2]: max_p min(Σp cos, Σp sin) puts all weight
  // on the angle nearest π/4 (value cos(π/4) when the grid holds it).
  const int K = 9;
  Eigen::MatrixXd A(2, K);
  for (int k = 0; k < K; ++k) {
    const double phi = std::acos(-1.0) / 2 * k / (K - 1);
    A.col(k) << std::cos(phi), std::sin(phi);
  }
  const GameSolution g = solve_matrix_game(A);
  BOOST_TEST(g.value == std::sqrt(0.5), tt::tolerance(1e-14));
  BOOST_TEST(g.columns[4] == 1.0, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(rejects_empty_and_non_finite) {
  BOOST_CHECK_THROW(solve_matrix_game(Eigen::MatrixXd(0, 3)), std::invalid_argument);
  Eigen::Matrix2d A = Eigen::Matrix2d::Ones();
  A(0, 1) = std::nan("");
  BOOST_CHECK_THROW(solve_matrix_game(A), std::invalid_argument);
}
