// NNLS (Lawson–Hanson) against known solutions, and the log-domain clock quadrature against
// closed-form integrals of e^{−ℓ} for linear and quadratic ℓ.
#define BOOST_TEST_MODULE nnls_clock
#include <boost/test/unit_test.hpp>

#include "solver/log_clock.hpp"
#include "solver/nnls.hpp"

#include <cmath>
#include <vector>

using namespace kktflow;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(nnls_interior_solution_is_the_linear_solve) {
  Eigen::MatrixXd K(2, 2);
  K << 2, 1, 1, 3;
  const Eigen::Vector2d lambda_true(0.5, 0.25);
  const auto r = nnls_normal(K, K * lambda_true);
  BOOST_TEST(r.converged);
  BOOST_TEST((r.lambda - lambda_true).norm() < 1e-14);
}

BOOST_AUTO_TEST_CASE(nnls_clamps_a_negative_coordinate_to_zero) {
  // min ½λᵀλ − bᵀλ with b = (1, −2): λ = (1, 0), by hand (K = I separates the coordinates).
  const Eigen::MatrixXd K = Eigen::MatrixXd::Identity(2, 2);
  const auto r = nnls_normal(K, Eigen::Vector2d(1, -2));
  BOOST_TEST(r.lambda[0] == 1.0, tt::tolerance(1e-14));
  BOOST_TEST(r.lambda[1] == 0.0);
}

BOOST_AUTO_TEST_CASE(nnls_satisfies_kkt_conditions_on_a_random_problem) {
  // Optimality of min_{λ≥0} ½λᵀKλ − bᵀλ: g = Kλ − b ≥ 0, λ ≥ 0, λ_i g_i = 0.
  const Eigen::MatrixXd G = Eigen::MatrixXd::Random(40, 15);
  const Eigen::MatrixXd K = G.transpose() * G;
  const Eigen::VectorXd b = G.transpose() * Eigen::VectorXd::Random(40);
  const auto r = nnls_normal(K, b);
  const Eigen::VectorXd g = K * r.lambda - b;
  BOOST_TEST(r.converged);
  BOOST_TEST(r.lambda.minCoeff() >= 0.0);
  BOOST_TEST(g.minCoeff() >= -1e-10 * b.norm());
  BOOST_TEST(std::abs(r.lambda.dot(g)) <= 1e-10 * b.squaredNorm());
}

namespace {

/// Planted KKT point: λ* ≥ 0 with zeros on Z (the even indices) and a slack μ ≥ 0 supported on Z,
/// b = Kλ* − μ; then g = Kλ* − b = μ ≥ 0 and λ*ᵢ μᵢ = 0, so λ* is the minimizer (K positive
/// definite: unique). The unconstrained solution K⁻¹b = λ* − K⁻¹μ is negative on part of Z, so
/// the seeded start has to shrink its set.
struct Planted {
  Eigen::Index n = 120;
  Eigen::MatrixXd K;
  Eigen::VectorXd lambda_star, b;
  Planted() {
    const Eigen::MatrixXd G = Eigen::MatrixXd::Random(300, n);
    K = G.transpose() * G;
    lambda_star = Eigen::VectorXd::Random(n).cwiseAbs();
    Eigen::VectorXd mu = Eigen::VectorXd::Zero(n);
    for (Eigen::Index i = 0; i < n; i += 2) lambda_star[i] = 0, mu[i] = 1.0 + std::abs(std::sin(double(i))) * 50;
    b = K * lambda_star - mu;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(nnls_finds_a_planted_solution_with_half_the_multipliers_at_zero) {
  const Planted p;
  const auto r = nnls_normal(p.K, p.b);
  BOOST_TEST(r.converged);
  BOOST_TEST((r.lambda - p.lambda_star).cwiseAbs().maxCoeff() < 1e-10);
}

BOOST_AUTO_TEST_CASE(nnls_seeded_with_a_guess_gives_the_cold_start_bits) {
  // The planted problem, seeded with its support, with a superset and with a subset: each ends
  // on the same support, and the multipliers, solved afresh on it, must be the same bits.
  const Planted p;
  const Eigen::Index n = p.n;
  const Eigen::MatrixXd& K = p.K;
  const Eigen::VectorXd& b = p.b;
  const auto cold = nnls_normal(K, b);
  std::vector<Eigen::Index> support, superset, subset;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (i % 2 == 1) support.push_back(i);
    if (i % 2 == 1 || i % 6 == 0) superset.push_back(i);
    if (i % 2 == 1 && i % 10 != 1) subset.push_back(i);
  }
  for (const auto& guess : {support, superset, subset}) {
    const auto warm = nnls_normal(K, b, guess);
    BOOST_TEST(warm.converged);
    BOOST_TEST((warm.lambda.array() == cold.lambda.array()).all());
  }
  BOOST_TEST(nnls_normal(K, b, support).iterations == 0);  // the support itself: nothing to add
}

BOOST_AUTO_TEST_CASE(nnls_positive_unconstrained_solution_needs_no_iteration) {
  // Every multiplier positive: the seeded start's first round is the answer.
  const Eigen::MatrixXd G = Eigen::MatrixXd::Random(400, 200);
  const Eigen::MatrixXd K = G.transpose() * G;
  const Eigen::VectorXd lambda_true = Eigen::VectorXd::Random(200).cwiseAbs().array() + 0.1;
  const auto r = nnls_normal(K, K * lambda_true);
  BOOST_TEST(r.converged);
  BOOST_TEST(r.iterations == 0);
  BOOST_TEST((r.lambda - lambda_true).cwiseAbs().maxCoeff() < 1e-10);
}

BOOST_AUTO_TEST_CASE(clock_integrates_linear_exponent_exactly) {
  // ∫₀^h e^{−(l0 + c s)} ds = e^{−l0}(1 − e^{−c h})/c, here with l0 = −5000 (e^{5000} overflows).
  const double l0 = -5000, c = -30, h = 2;  // ℓ falls by 60 over the step
  const double exact = -l0 + std::log(std::expm1(-c * h) / -c);
  BOOST_TEST(log_integral_exp_neg_quadratic(l0, l0 + c * h / 2, l0 + c * h, h) == exact, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(clock_integrates_a_late_phase_step_where_log_loss_falls_by_1e9) {
  // Same closed form with ℓ falling by |c| h = 1e9 over the step (a late region_ros2 step):
  // log ∫ = −(l0 + c h) + log(−expm1(c h) / −c). Panels spread over the whole step would each
  // span ~2.4e5 units of ℓ and miss it by orders of magnitude.
  const double l0 = -1e6, c = -5e8, h = 2;
  const double exact = -(l0 + c * h) + std::log(-std::expm1(c * h) / -c);
  BOOST_TEST(log_integral_exp_neg_quadratic(l0, l0 + c * h / 2, l0 + c * h, h) == exact, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(clock_survives_rounding_curvature_on_a_long_linear_step) {
  // A step of the demo (log t ≈ 1.9e5), values as the driver passed them: ℓ falls by 9430 and
  // the midpoint is linear up to rounding, so the fitted curvature is −5.8e-11. The part of the
  // step that counts is its last 60/9430; the textbook root formula put that bound at 0.984
  // instead of 0.9936 by cancellation, the step added nothing, and log t stood still.
  const double l0 = -188591.21304833153, lm = -193305.91501408099, l1 = -198020.61697983049, h = 410.41305152807689;
  const double c = (l1 - l0) / h;
  const double exact = -l1 + std::log(-std::expm1(c * h) / -c);
  BOOST_TEST(log_integral_exp_neg_quadratic(l0, lm, l1, h) == exact, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(clock_integrates_a_step_where_log_loss_is_beyond_its_ulp) {
  // A late step of a 4-homogeneous net (le2022_relu_trailing at log t ≈ 1e20): ℓ ≈ −1e20 falls by
  // 5e18. ℓ's ulp is 16384, ℓ_min + 60 rounds to ℓ_min, and panels would find nothing to integrate
  // (log t would stand still); the closed form for linear ℓ is −(l0 + c h) + log(−expm1(c h)/−c).
  const double l0 = -1e20, c = -2.5e18, h = 2;
  const double exact = -(l0 + c * h) + std::log(-std::expm1(c * h) / -c);
  BOOST_TEST(log_integral_exp_neg_quadratic(l0, l0 + c * h / 2, l0 + c * h, h) == exact, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(clock_integrates_quadratic_exponent) {
  // ℓ(s) = s² on [0, 1]: ∫ e^{−s²} = (√π/2) erf(1).
  const double exact = std::log(std::sqrt(M_PI) / 2 * std::erf(1.0));
  BOOST_TEST(log_integral_exp_neg_quadratic(0.0, 0.25, 1.0, 1.0) == exact, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(log_add_exp_handles_minus_infinity_and_huge_values) {
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_TEST(log_add_exp(-inf, 3.0) == 3.0);
  BOOST_TEST(log_add_exp(1e5, 1e5) == 1e5 + std::log(2.0), tt::tolerance(1e-15));
}
