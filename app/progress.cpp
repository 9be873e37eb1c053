#include "progress.hpp"

#include <string>

namespace kktflow {

void ProgressBar::on_record(const Record& r, const Eigen::VectorXd&) {
  if (r.wall_s - m_last_wall < 0.2) return;  // redraw at most 5 times a second
  m_last_wall = r.wall_s;
  const double srank = r.stable_rank;
  const double rate = r.wall_s > 0 ? static_cast<double>(r.step) / r.wall_s : 0.0;
  std::fprintf(m_out, "\r\033[Klog t %9.2f | log L %10.2f | ε_KKT %8.2e | 1-β %8.2e | srank %6.3f | sliding %4lld | %7.0f steps/s",
               r.log_t, r.log_loss, r.kkt_eps, 1.0 - r.alignment_beta, srank, static_cast<long long>(r.sliding), rate);
  std::fflush(m_out);
  m_drawn = true;
}

void ProgressBar::on_finish(const Eigen::VectorXd&, Status, const std::string&) {
  if (m_drawn) std::fprintf(m_out, "\n");
}

void SweepProgress::update(const SweepStatus& s) {
  constexpr int width = 30;  // characters of the bar (ours)
  const int filled = s.total > 0 ? (width * (s.done + s.failed)) / s.total : width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(m_out, "\r\033[Kcases [%s] %d/%d done | %d running | %d failed | %d skipped | %.0f s", bar.c_str(), s.done, s.total,
               s.running, s.failed, s.skipped, s.wall_s);
  std::fflush(m_out);
  m_drawn = true;
}

void SweepProgress::finish() {
  if (m_drawn) std::fprintf(m_out, "\n");
  m_drawn = false;
}

}  // namespace kktflow
