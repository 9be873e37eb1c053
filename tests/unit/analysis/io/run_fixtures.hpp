#pragma once
/// \file run_fixtures.hpp
/// The run file of the run-store tests: metadata, rows, events and θ whose every value shows
/// any rounding, so that a round trip through HDF5 can be compared bit for bit, and the checks
/// that compare them.
#include "analysis/io/h5.hpp"
#include "analysis/io/run_store.hpp"

#include <Eigen/Core>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace kktflow::testing {

inline constexpr int kTop = 3;
inline constexpr std::int64_t kNewSigns[10] = {1, -1, 0, 2, -2, 0, 1, 0, -1, 1};

inline kktflow::RunMetadata make_meta() {
  kktflow::RunMetadata meta;
  meta.config_text = "[model]\nkind = \"leaky2_fixed_outer\"\ngamma = 0.1\n";
  meta.seed = 18446744073709551557ULL;  // above 2^63: must survive as unsigned
  meta.kktflow_version = "0.1.0";
  meta.git_commit = "0123456789ab";
  meta.created = "2024-05-01T12:00:00Z";
  meta.X = Eigen::MatrixXd(4, 3);
  meta.X << 1.0 / 3, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1e-300;
  meta.y = Eigen::Vector4d(1, -1, 1, -1);
  meta.data_attrs = {{"source", "gaussian"}, {"n", "4"}, {"d", "3"}};
  meta.model_attrs = {{"kind", "leaky2_fixed_outer"}, {"activation", "leaky_relu"}, {"loss", "exp"}};
  meta.model_numbers = {{"gamma", 0.1}, {"m", 2}};
  meta.a = Eigen::Vector2d(1 / std::sqrt(2.0), -1 / std::sqrt(2.0));
  meta.layer_names = {"W"};
  meta.layer_shapes = {2, 3};
  meta.k_top = kTop;
  return meta;
}

/// Row i, with values that are not short decimals so that any rounding would show.
inline kktflow::Record make_record(std::int64_t i) {
  const auto x = static_cast<double>(i);
  kktflow::Record r;
  r.step = i * 7;
  r.tau = x / 7.0;
  r.log_t = std::log1p(x) * 3.0;
  r.log_loss = -x * 1.0e5 - 0.1;
  r.norm = std::sqrt(x + 2.0);
  r.normalized_margin = 1.0 / (x + 3.0);
  r.smoothed_margin = 1.0 / (x + 5.0);
  r.stable_rank = 1.0 + 1.0 / (x + 1.0);
  r.sigma = Eigen::Vector3d(x + 0.5, x / 3.0, 1e-17 * x);
  r.kkt_eps = std::exp(-x / 10.0);
  r.kkt_delta = std::exp(-x / 20.0);
  r.alignment_beta = 1.0 - std::exp(-x);
  r.direction_change = i == 0 ? 0.0 : 1.0 / x;
  r.switches = 3 * i;
  r.sliding = i % 5;
  r.rhs_evals = 13 * i + 1;
  r.dt = 0.01 * (x + 1.0) / 3.0;
  r.err_estimate = i % 2 == 0 ? -1.0 : 0.25;
  r.wall_s = x * 0.003;
  return r;
}

inline kktflow::SwitchEvent make_event(std::int64_t i) {
  return {i * 30, std::log1p(static_cast<double>(i)), i % 2, i % 4, static_cast<int>(kNewSigns[i % 10])};
}

inline Eigen::VectorXd make_theta(double scale) {
  return Eigen::VectorXd::LinSpaced(6, -1.0, 1.0) * scale + Eigen::VectorXd::Constant(6, 1.0 / 7.0);
}

/// Every field of a row read back against the row written.
inline void check_same(const kktflow::Record& got, const kktflow::Record& want) {
  BOOST_TEST(got.step == want.step);
  BOOST_TEST(got.tau == want.tau);
  BOOST_TEST(got.log_t == want.log_t);
  BOOST_TEST(got.log_loss == want.log_loss);
  BOOST_TEST(got.norm == want.norm);
  BOOST_TEST(got.normalized_margin == want.normalized_margin);
  BOOST_TEST(got.smoothed_margin == want.smoothed_margin);
  BOOST_TEST(got.stable_rank == want.stable_rank);
  BOOST_TEST(got.sigma.size() == want.sigma.size());
  BOOST_TEST((got.sigma == want.sigma));
  BOOST_TEST(got.kkt_eps == want.kkt_eps);
  BOOST_TEST(got.kkt_delta == want.kkt_delta);
  BOOST_TEST(got.alignment_beta == want.alignment_beta);
  BOOST_TEST(got.direction_change == want.direction_change);
  BOOST_TEST(got.switches == want.switches);
  BOOST_TEST(got.sliding == want.sliding);
  BOOST_TEST(got.rhs_evals == want.rhs_evals);
  BOOST_TEST(got.dt == want.dt);
  BOOST_TEST(got.err_estimate == want.err_estimate);
  BOOST_TEST(got.wall_s == want.wall_s);
}

/// Whether `expr` throws kktflow::h5::Error whose message contains `part`.
template <class F>
inline bool throws_error_with(F&& expr, const std::string& part) {
  try {
    expr();
  } catch (const kktflow::h5::Error& error) {
    BOOST_TEST_MESSAGE("kktflow::h5::Error: " << error.what());
    return std::string(error.what()).find(part) != std::string::npos;
  }
  return false;
}

}  // namespace kktflow::testing
