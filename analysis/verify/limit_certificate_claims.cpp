#include "analysis/verify/limit_certificate_claims.hpp"

#include "analysis/verify/frei2023_gd_claims.hpp"
#include "analysis/verify/leaky2_run.hpp"
#include "analysis/verify/limit_certificate.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace kktflow {
namespace {

constexpr const char* kName = "lyuli2020.limit_certified";

bool margin_loss(const std::string& loss) { return loss == "exp" || loss == "logistic"; }

/// Where the argument holds: gradient flow on a model whose margins are linear in θ inside a
/// region, with a margin loss.
ClaimNames requestable(const RunData& run) {
  const bool linear_margins = run.kind == "linear" || (run.kind == "leaky2_fixed_outer" && !is_gd_run(run.config));
  return linear_margins && margin_loss(run.loss) ? ClaimNames{kName} : ClaimNames{};
}

std::string region_text(const LimitCertificate& c) {
  if (c.pairs == 0) return "the linear model's single region (no sign to keep)";
  return fmt::format("its activation region ({} pairs, every sign certified at θ_T)", c.pairs);
}

/// The figures computed so far, in the order the proof reaches them.
std::string figures(const LimitCertificate& c) {
  std::string out = fmt::format("{} of {} samples in λ̂'s support", c.support, c.samples);
  if (std::isfinite(c.lambda_radius)) out += fmt::format(", λ̂ enclosed to ±{:.1g}", c.lambda_radius);
  if (std::isfinite(c.initial_kl)) out += fmt::format("; KL(λ̂‖w_T) ≤ {:.3g}", c.initial_kl);
  if (std::isfinite(c.rho_limit)) out += fmt::format("; largest admissible KL radius {:.3g}", c.rho_limit);
  if (std::isfinite(c.rho)) out += fmt::format("; ball ρ = {:.3g}", c.rho);
  if (std::isfinite(c.weight_ratio_lo))
    out += fmt::format(" (weights within ×[{:.3g}, {:.3g}] of λ̂)", c.weight_ratio_lo, c.weight_ratio_hi);
  if (c.certified) out += fmt::format(", the recorded state {:.3g} inside its boundary", c.rho - c.initial_kl);
  if (std::isfinite(c.decay))
    out += fmt::format("; decrease dKL/dτ ≤ −{:.3g} KL on the ball", c.decay);
  else if (std::isfinite(c.rho))
    out += "; decrease: KL non-increasing (rate not certified)";
  if (c.pairs > 0 && std::isfinite(c.sign_margin))
    out += fmt::format("; smallest sign margin over the ball {:.3g} of the limit's rate", c.sign_margin);
  if (std::isfinite(c.remainder))
    out += fmt::format("; logistic: margins grow ≥ {:.3g}, perturbation ≤ {:.3g}", c.growth, c.remainder);
  if (std::isfinite(c.angle)) out += fmt::format("; ∠(θ_T, θ*) = {:.3g} rad (floating point)", c.angle);
  return out + fmt::format("; {:.2f} s", c.seconds);
}

LimitCertificate certificate(const RunData& run) {
  const LossKind loss = parse_loss_kind(run.loss);
  if (run.kind == "linear") return certify_linear_limit(run.X, run.y, run.theta_final, loss);
  const Leaky2Run view = leaky2_run(run);
  return certify_limit(view.net, view.W_final, loss);
}

ClaimResult limit_certified(const RunData& run) {
  const LimitCertificate cert = certificate(run);
  ClaimResult r{kName, cert.certified, cert.initial_kl / cert.rho, 1.0, cert.certified, ""};
  r.not_certified = !cert.certified;
  if (cert.certified) {
    r.detail = fmt::format(
        "certified: the exact flow from θ_T ({} loss) never leaves {}, so its direction tends to the "
        "region's max-margin point θ* (a KKT point; for the net, the pattern QP's solution): {}",
        run.loss, region_text(cert), figures(cert));
  } else {
    r.detail = fmt::format("not certified: {}; {}", cert.reason, figures(cert));
  }
  return r;
}

}  // namespace

const ClaimFamily& limit_certificate_family() {
  static const ClaimFamily family{
      {{kName,
        "the exact flow from θ_T never leaves its region: its limit is that region's max-margin point, certified"}},
      requestable,
      requestable,
      [](const RunData& run, const ClaimNames& names) {
        VerifyOutcome outcome;
        if (!names.empty()) outcome.claims.push_back(limit_certified(run));
        return outcome;
      }};
  return family;
}

}  // namespace kktflow
