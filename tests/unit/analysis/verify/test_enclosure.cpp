#define BOOST_TEST_MODULE enclosure
/// The enclosures under the limit certificate against exact answers: dot products and matrix
/// products of dyadic numbers (exact in 128-bit integers), a 2 × 2 system, positive
/// definiteness, the KL ball's weight bounds against their closed form at λ̂ = (½, ½), and the
/// rest point λ̂ against closed forms, refused where it is not unique.
#include "analysis/verify/enclosure.hpp"
#include "analysis/verify/kl_ball.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace kktflow;

namespace {

__extension__ using Int = __int128;  // GCC's 128-bit integer, for exact sums

/// Dyadic doubles k · 2^e, |k| < 2²⁶, e ∈ [−10, 10]: every product is a multiple of 2⁻²⁰ below
/// 2⁷², so a sum of a thousand is exact in 128-bit integers after scaling by 2²⁰.
std::vector<double> dyadic(std::size_t count, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<long> mantissa(-(1L << 26) + 1, (1L << 26) - 1);
  std::uniform_int_distribution<int> exponent(-10, 10);
  std::vector<double> out(count);
  for (double& x : out) x = std::ldexp(static_cast<double>(mantissa(rng)), exponent(rng));
  return out;
}

/// x scaled by 2²⁰, exactly (x must be a multiple of 2⁻²⁰).
Int scaled(double x) { return static_cast<Int>(std::ldexp(x, 20)); }

Int exact_dot(const double* x, const double* y, std::size_t n) {
  Int sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += scaled(x[i]) * scaled(y[i]) >> 20;  // both factors ≥ 2⁻¹⁰: exact
  return sum;
}

/// |hi + lo − exact| in units of 2⁻²⁰, as a double (small, so exact in a double).
double miss(const DotEnclosure& e, Int exact) {
  const Int diff = scaled(e.hi) + scaled(e.lo) - exact;
  return std::ldexp(static_cast<double>(diff < 0 ? -diff : diff), -20);
}

}  // namespace

BOOST_AUTO_TEST_CASE(dot2_keeps_what_double_cancels) {
  // 1e16 + 1 rounds to 1e16 in double (ulp 2), so the plain sum loses the 1 and gives 3.
  const double x[] = {1e16, 1.0, -1e16, 3.0};
  const double y[] = {1.0, 1.0, 1.0, 1.0};
  double plain = 0;
  for (int i = 0; i < 4; ++i) plain += x[i] * y[i];
  BOOST_TEST(plain == 3.0);
  const DotEnclosure e = dot2(x, y, 4);
  BOOST_TEST(e.hi + e.lo == 4.0);
  BOOST_TEST(e.err < 1e-12);
}

BOOST_AUTO_TEST_CASE(dot2_encloses_exact_dyadic_sums) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const std::size_t n = 1000;
    std::vector<double> x = dyadic(n, seed);
    std::vector<double> y = dyadic(n, seed + 100);
    // Nearly cancelling halves: x_{i+n/2} = x_i + k_i 2⁻¹⁰ (|k_i| < 8), y_{i+n/2} = −y_i, so the
    // sum is Σ −k_i 2⁻¹⁰ y_i, far below Σ|x_i y_i|.
    for (std::size_t i = 0; i < n / 2; ++i) {
      x[i + n / 2] = x[i] + std::ldexp(static_cast<double>(static_cast<long>(i % 15) - 7), -10);
      y[i + n / 2] = -y[i];
    }
    const DotEnclosure e = dot2(x.data(), y.data(), static_cast<Eigen::Index>(n));
    BOOST_TEST(miss(e, exact_dot(x.data(), y.data(), n)) <= e.err);
    double abs_sum = 0;
    for (std::size_t i = 0; i < n; ++i) abs_sum += std::abs(x[i] * y[i]);
    BOOST_TEST(e.err <= 1e-24 * abs_sum);  // γ_n² ≈ 1.2e-26 for n = 1000
  }
}

BOOST_AUTO_TEST_CASE(product_enclosure_holds_the_exact_product) {
  const Eigen::Index r = 7, k = 300, c = 5;
  const std::vector<double> a = dyadic(static_cast<std::size_t>(r * k), 3);
  const std::vector<double> b = dyadic(static_cast<std::size_t>(k * c), 4);
  const Eigen::MatrixXd A = Eigen::Map<const Eigen::MatrixXd>(a.data(), r, k);
  const Eigen::MatrixXd B = Eigen::Map<const Eigen::MatrixXd>(b.data(), k, c);
  const MidRad P = enclose_product(A, B);
  const Eigen::MatrixXd At = A.transpose();  // column i of At is row i of A, contiguous
  double widest = 0;
  for (Eigen::Index i = 0; i < r; ++i) {
    for (Eigen::Index j = 0; j < c; ++j) {
      const Int exact = exact_dot(At.col(i).data(), B.col(j).data(), static_cast<std::size_t>(k));
      const Int diff = scaled(P.mid(i, j)) - exact;
      BOOST_TEST(std::ldexp(static_cast<double>(diff < 0 ? -diff : diff), -20) <= P.rad(i, j));
      widest = std::max(widest, P.rad(i, j) / (A.row(i).cwiseAbs() * B.col(j).cwiseAbs()).value());
    }
  }
  BOOST_TEST(widest <= 1.1 * 300 * std::ldexp(1.0, -53));  // γ_k, not more
}

BOOST_AUTO_TEST_CASE(linear_system_enclosure) {
  // [4 1; 1 3] x = (1, 2): x = (1/11, 7/11).
  const Eigen::Matrix2d A = (Eigen::Matrix2d() << 4, 1, 1, 3).finished();
  const SolveEnclosure x = enclose_solution(exact_enclosure(A), Eigen::Vector2d(1, 2));
  BOOST_TEST(x.verified);
  BOOST_TEST(std::abs(x.mid[0] - 1.0L / 11) <= x.rad);
  BOOST_TEST(std::abs(x.mid[1] - 7.0L / 11) <= x.rad);
  BOOST_TEST(x.rad < 1e-15);
  // A singular matrix in the enclosure: not verified.
  MidRad wide = exact_enclosure((Eigen::Matrix2d() << 1, 1, 1, 1.01).finished());
  wide.rad.setConstant(0.02);
  BOOST_TEST(!enclose_solution(wide, Eigen::Vector2d(1, 2)).verified);
}

BOOST_AUTO_TEST_CASE(positive_definiteness) {
  BOOST_TEST(certify_positive_definite(exact_enclosure((Eigen::Matrix2d() << 2, 1, 1, 2).finished())));
  BOOST_TEST(!certify_positive_definite(exact_enclosure((Eigen::Matrix2d() << 1, 2, 2, 1).finished())));
  // Eigenvalues 1 ± 0.999: positive definite, but an enclosure of radius 0.01 reaches a singular matrix.
  MidRad near = exact_enclosure((Eigen::Matrix2d() << 1, 0.999, 0.999, 1).finished());
  BOOST_TEST(certify_positive_definite(near));
  near.rad.setConstant(0.01);
  BOOST_TEST(!certify_positive_definite(near));
}

BOOST_AUTO_TEST_CASE(kl_ball_bounds_at_one_half) {
  // λ̂ = (½, ½), K = I: kl(½‖½ ± t) = −½ log(1 − 4t²) = ρ gives t = ½ √(1 − e^{−2ρ}).
  const Equilibrium eq = enclose_equilibrium(exact_enclosure(Eigen::Matrix2d::Identity()));
  BOOST_REQUIRE(eq.verified);
  BOOST_TEST(eq.lambda_lo[0] <= 0.5);
  BOOST_TEST(eq.lambda_hi[0] >= 0.5);
  BOOST_TEST(eq.mu_lo <= 0.5);
  BOOST_TEST(eq.mu_hi >= 0.5);
  for (const double rho : {1e-8, 1e-3, 0.1, 0.5}) {
    const double t = 0.5 * std::sqrt(-std::expm1(-2 * rho));
    const KlBall ball = certify_ball(eq, rho);
    BOOST_REQUIRE(ball.certified);
    for (int i = 0; i < 2; ++i) {
      BOOST_TEST(ball.lo[i] <= 0.5 - t);
      BOOST_TEST(ball.hi[i] >= 0.5 + t);
      // Certified roots sit outside by 1e-10 t, plus what λ̂'s enclosure (radius ~1e-16) costs in
      // the interval evaluation of kl, whose two terms see p separately: ~1e-16/(4t).
      BOOST_TEST(ball.lo[i] >= 0.5 - t - 1e-9 * t - 1e-15 / t);
      BOOST_TEST(ball.hi[i] <= 0.5 + t + 1e-9 * t + 1e-15 / t);
    }
  }
}

BOOST_AUTO_TEST_CASE(equilibrium_with_a_non_support_sample) {
  // G = (1, 0), (0, 1), (1, 1): the third sample's margin at the min-norm point (½, ½) is 1 > μ = ½.
  const Eigen::Matrix<double, 3, 2> G = (Eigen::Matrix<double, 3, 2>() << 1, 0, 0, 1, 1, 1).finished();
  const Equilibrium eq = enclose_equilibrium(exact_enclosure(G * G.transpose()));
  BOOST_TEST_INFO(eq.failure);
  BOOST_REQUIRE(eq.verified);
  BOOST_TEST(eq.support_size == 2);
  BOOST_TEST(eq.in_support[2] == 0);
  BOOST_TEST(eq.gap_lo <= 0.5);
  BOOST_TEST(eq.gap_lo >= 0.5 - 1e-14);
}

BOOST_AUTO_TEST_CASE(equilibrium_against_its_closed_form) {
  // K = diag(1, 4): min λ₁² + 4λ₂² on the simplex at λ̂ = (4/5, 1/5), μ = 4/5, neither dyadic.
  const Equilibrium eq = enclose_equilibrium(exact_enclosure(Eigen::Vector2d(1, 4).asDiagonal().toDenseMatrix()));
  BOOST_TEST_INFO(eq.failure);
  BOOST_REQUIRE(eq.verified);
  BOOST_TEST(eq.support_size == 2);
  BOOST_TEST(eq.lambda_lo[0] <= 4.0L / 5);
  BOOST_TEST(eq.lambda_hi[0] >= 4.0L / 5);
  BOOST_TEST(eq.lambda_lo[1] <= 1.0L / 5);
  BOOST_TEST(eq.lambda_hi[1] >= 1.0L / 5);
  BOOST_TEST(eq.mu_lo <= 4.0L / 5);
  BOOST_TEST(eq.mu_hi >= 4.0L / 5);
  BOOST_TEST(eq.lambda_hi[0] - eq.lambda_lo[0] < 1e-14);
  BOOST_TEST(eq.mu_hi - eq.mu_lo < 1e-14);
}

BOOST_AUTO_TEST_CASE(equilibrium_whose_support_the_enclosure_does_not_fix_is_refused) {
  // G = (1, 0), (0, 1), (½, ½): the min-norm point (½, ½) of their hull is both G₃ and the midpoint
  // of G₁G₂. Moving K₃₁ = K₃₂ = ½ by ±ε within the enclosure gives λ = (½, ½, 0) the gap
  // g₃ = ½(K₃₁ + K₃₂) − ½ = ±ε: sample 3 belongs to the support for −ε and not for +ε, so no
  // support S holds for every K in the enclosure, and neither "λ̂_S > 0" nor "g ≥ 0 off S" can be
  // certified for all of them.
  const Eigen::Matrix<double, 3, 2> G = (Eigen::Matrix<double, 3, 2>() << 1, 0, 0, 1, 0.5, 0.5).finished();
  MidRad K = exact_enclosure(G * G.transpose());
  K.rad.setConstant(1e-6);
  const Equilibrium eq = enclose_equilibrium(K);
  BOOST_TEST(!eq.verified);
  BOOST_TEST(!eq.failure.empty());
  // The same hull with G₃ = (1, 1) instead is far from the min-norm point: certified (see above).
  const Eigen::Matrix<double, 3, 2> H = (Eigen::Matrix<double, 3, 2>() << 1, 0, 0, 1, 1, 1).finished();
  MidRad wide = exact_enclosure(H * H.transpose());
  wide.rad.setConstant(1e-6);
  BOOST_TEST(enclose_equilibrium(wide).verified);
}
