#include "analysis/verify/frei2023_gd_claims.hpp"

#include "analysis/verify/leaky2_run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kktflow {

namespace {

/// Ours: finite-size corrections are O((√m + √n)²/(mn)) for the step and O(1/√m) for the init at
/// the demo's sizes.
constexpr double kRelativeTolerance = 0.05;

/// ‖W‖_F² / ‖W‖₂², from the eigenvalues of the smaller Gram matrix.
double stable_rank(const Eigen::MatrixXd& W) {
  const Eigen::MatrixXd G =
      W.rows() <= W.cols() ? Eigen::MatrixXd(W * W.transpose()) : Eigen::MatrixXd(W.transpose() * W);
  const double top = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(G, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
  return top > 0 ? G.trace() / top : 0.0;
}

ClaimResult ratio_claim(std::string name, double measured, double predicted, double tolerance, std::string detail) {
  ClaimResult c;
  c.name = std::move(name);
  c.value = std::abs(measured / predicted - 1.0);
  c.tolerance = tolerance;
  c.passed = c.value <= tolerance;
  c.detail = fmt::format("{}: {:.6g} against {:.6g}, ratio {:.6f}", detail, measured, predicted, measured / predicted);
  return c;
}

ClaimResult initial_srank(const Leaky2Run& run, double tolerance) {
  const Eigen::MatrixXd& W0 = run.snapshots.front();
  const auto m = static_cast<double>(W0.rows()), d = static_cast<double>(W0.cols());
  const double predicted = m * d / std::pow(std::sqrt(m) + std::sqrt(d), 2);
  return ratio_claim("frei2023.gd_initial_srank", stable_rank(W0), predicted, tolerance,
                     fmt::format("srank(W⁰) for m = {}, d = {}, against md/(√m + √d)²", W0.rows(), W0.cols()));
}

/// max_{i≠k} |cos∡(x_i, x_k)| and max_i ‖x_i‖/min_i ‖x_i‖ − 1.
std::pair<double, double> orthogonality(const Eigen::MatrixXd& X) {
  const Eigen::VectorXd norms = X.rowwise().norm();
  Eigen::MatrixXd cosines = (X * X.transpose()).array() / (norms * norms.transpose()).array();
  cosines.diagonal().setZero();
  return {cosines.cwiseAbs().maxCoeff(), norms.maxCoeff() / norms.minCoeff() - 1.0};
}

ClaimResult one_step_srank(const Leaky2Run& run, double tolerance) {
  const double gamma = run.net.gamma;
  const double predicted = 1.0 + std::pow((1.0 - gamma) / (1.0 + gamma), 2);
  const std::int64_t steps = run.trajectory.empty() ? 0 : run.trajectory.back().step;
  const auto [cosine, norm_spread] = orthogonality(run.net.X);
  ClaimResult c =
      ratio_claim("frei2023.gd_one_step_srank", stable_rank(run.W_final - run.snapshots.front()), predicted, tolerance,
                  fmt::format("srank(W¹ − W⁰) at γ = {}, against 1 + ((1 − γ)/(1 + γ))²", gamma));
  c.detail += fmt::format("; srank(W¹) = {:.4g} from srank(W⁰) = {:.4g}", stable_rank(run.W_final),
                          stable_rank(run.snapshots.front()));
  // Ours: orthogonal to rounding and equal norms to rounding, as data.kind = "orthogonal" makes them.
  if (steps != 1 || cosine > 1e-10 || norm_spread > 1e-10) {
    c.passed = false;
    c.detail += fmt::format(
        "; the oracle needs one GD step on orthogonal equal-norm data: {} steps, "
        "max |cos∡(x_i, x_k)| = {:.3g}, norm spread {:.3g}",
        steps, cosine, norm_spread);
  }
  return c;
}

}  // namespace

bool is_gd_run(const std::string& config) {
  try {
    const toml::table table = toml::parse(config);
    return table["flow"]["stepper"].value<std::string>() == std::optional<std::string>("gd");
  } catch (const toml::parse_error&) {
    return false;
  }
}

const ClaimFamily& frei2023_gd_family() {
  static const ClaimFamily family{
      {{"frei2023.gd_initial_srank", "srank(W⁰) against md/(√m + √d)² (Gaussian init)"},
       {"frei2023.gd_one_step_srank", "srank(W¹ − W⁰) against 1 + ((1 − γ)/(1 + γ))² on orthogonal data"}},
      [](const RunData& run) {
        return run.kind == "leaky2_fixed_outer" && is_gd_run(run.config)
                   ? ClaimNames{"frei2023.gd_initial_srank", "frei2023.gd_one_step_srank"}
                   : ClaimNames{};
      },
      [](const RunData& run) { return frei2023_gd_family().requestable(run); },
      [](const RunData& data, const ClaimNames& names) {
        const Leaky2Run run = leaky2_run(data);
        if (run.snapshots.empty()) throw std::invalid_argument("a GD run without its θ(0) snapshot");
        VerifyOutcome outcome;
        for (const std::string& name : names)
          outcome.claims.push_back(name == "frei2023.gd_initial_srank" ? initial_srank(run, kRelativeTolerance)
                                                                       : one_step_srank(run, kRelativeTolerance));
        return outcome;
      }};
  return family;
}

}  // namespace kktflow
