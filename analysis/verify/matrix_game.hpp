#pragma once
/// \file matrix_game.hpp
/// The value of a zero-sum matrix game, v = max_{p ∈ Δ} min_i (A p)_i over mixed strategies p of
/// the columns (von Neumann), as a linear program solved by the tableau simplex method.
///
/// Shift A' = A + C > 0 entrywise (C = 1 − min A), so v' = v + C > 0. With x = p / v' the game is
/// min 1ᵀx s.t. A'x ≥ 1, x ≥ 0 (1ᵀx = 1/v'), whose dual max 1ᵀy s.t. A'ᵀy ≤ 1, y ≥ 0 has the
/// origin feasible: the slack basis starts the simplex without a first phase. Bland's rule
/// (smallest index entering and leaving) prevents cycling (Bland 1977). At the optimum x is the
/// dual solution of the tableau: the reduced costs of the slack columns. Dense and O(k (m + k))
/// per pivot for an m × k matrix: meant for games of a few dozen rows and a few thousand columns.
#include <Eigen/Dense>

namespace kktflow {

struct GameSolution {
  Eigen::VectorXd columns;  ///< p ≥ 0, Σ p = 1: the maximising column strategy
  Eigen::VectorXd rows;     ///< q ≥ 0, Σ q = 1: the minimising row strategy
  double value = 0;         ///< min_i (A p)_i, evaluated at the p returned
  int pivots = 0;
  bool converged = false;  ///< optimal within the pivot budget (p is a valid strategy either way)
};

/// Throws std::invalid_argument for an empty or non-finite A.
GameSolution solve_matrix_game(const Eigen::Ref<const Eigen::MatrixXd>& A);

}  // namespace kktflow
