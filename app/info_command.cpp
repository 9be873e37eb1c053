#include "commands.hpp"

#include "analysis/run_store.hpp"

#include <cstdio>

namespace kktflow {

void setup_info(CLI::App& app, InfoOptions& opt) {
  auto* info = app.add_subcommand("info", "Summarize an HDF5 run file");
  info->add_option("file", opt.file, "run file written by kktflow run")->required();
  info->callback([&opt] { throw CLI::RuntimeError(run_info(opt)); });
}

int run_info(const InfoOptions& opt) {
  const RunSummary s = read_run_summary(opt.file);
  std::printf("%s: %s v%lld, kktflow %s (%s), created %s\n", opt.file.c_str(), s.format.c_str(),
              static_cast<long long>(s.format_version), s.kktflow_version.c_str(), s.git_commit.c_str(),
              s.created.c_str());
  std::printf("status      %s%s%s\n", s.status.c_str(), s.status_reason.empty() ? "" : ": ", s.status_reason.c_str());
  std::printf("data        n = %lld, d = %lld\n", static_cast<long long>(s.n), static_cast<long long>(s.d));
  std::printf("model      ");
  for (const auto& [k, v] : s.model_attrs) std::printf(" %s=%s", k.c_str(), v.c_str());
  std::printf("\nrecorded    %lld trajectory rows, %lld snapshots, %lld switch events\n",
              static_cast<long long>(s.trajectory_rows), static_cast<long long>(s.snapshots),
              static_cast<long long>(s.events));
  std::printf("sliding     %lld pairs entered Filippov sliding on a kink (events with new_sign 0)\n",
              static_cast<long long>(s.sliding_entries));
  if (s.last) {
    const Record& r = *s.last;
    const double ratio = r.sigma.size() >= 3 && r.sigma[0] > 0 ? r.sigma[2] / r.sigma[0] : 0.0;
    std::printf("last row    log t %.2f, log L %.2f, ‖θ‖ %.4g, normalized margin %.6g\n", r.log_t, r.log_loss,
                r.norm, r.normalized_margin);
    std::printf("            ε_KKT %.3e, δ_KKT %.3e, 1-β %.3e, direction change %.3e per unit log t\n", r.kkt_eps,
                r.kkt_delta, 1.0 - r.alignment_beta, r.direction_change);
    std::printf("            stable rank %.6f, σ3/σ1 %.3e, %lld pairs sliding now\n", r.stable_rank, ratio,
                static_cast<long long>(r.sliding));
    std::printf("            %lld steps, %lld RHS evaluations, %.2f s\n", static_cast<long long>(r.step),
                static_cast<long long>(r.rhs_evals), r.wall_s);
  }
  return exit_ok;
}

}  // namespace kktflow
