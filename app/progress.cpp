#include "progress.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace kktflow {

namespace {

/// One progress line: redrawn in place on a terminal, a plain "progress:" line elsewhere (a log).
void show(std::FILE* out, bool terminal, const std::string& line) {
  if (terminal) {
    std::fprintf(out, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(out, "progress: %s\n", line.c_str());
  }
  std::fflush(out);
}

/// A terminal line is redrawn at most this often (ours: 5 times a second).
constexpr double kRedrawSeconds = 0.2;

}  // namespace

ProgressTarget kkt_target(double kkt_eps) {
  return {"ε_KKT", [](const Record& r) { return std::log(r.kkt_eps); }, kkt_eps};
}

ProgressTarget loss_target(double loss) {
  return {"L", [](const Record& r) { return r.log_loss; }, loss};
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "—";
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

double ProgressBar::seconds_left(const Record& r) {
  const double now = m_target.log_of(r);
  if (!std::isfinite(now)) return std::numeric_limits<double>::quiet_NaN();
  m_history.emplace_back(r.wall_s, now);
  while (m_history.size() > 2 && m_history.front().first < r.wall_s / 2) m_history.pop_front();
  const auto [wall0, then] = m_history.front();
  const double slope = r.wall_s > wall0 ? (now - then) / (r.wall_s - wall0) : 0.0;
  const double gap = std::log(m_target.target) - now;
  if (gap >= 0) return 0.0;
  return slope < 0 ? gap / slope : std::numeric_limits<double>::quiet_NaN();
}

void ProgressBar::on_record(const Record& r, const Eigen::VectorXd&) {
  const double left = seconds_left(r);
  const double interval = m_terminal ? kRedrawSeconds : m_every_s;
  if (m_last_shown >= 0 && r.wall_s - m_last_shown < interval) return;
  m_last_shown = r.wall_s;
  const double figure = std::exp(m_target.log_of(r));
  const std::string line = fmt::format(
      "{} | step {} | log t {:.4g} | {} {:.2e} → {:.0e} | left {} | srank {:.4f} | sliding {}", duration_text(r.wall_s),
      r.step, r.log_t, m_target.name, figure, m_target.target, duration_text(left), r.stable_rank, r.sliding);
  show(m_out, m_terminal, line);
  m_drawn = m_terminal;
}

void ProgressBar::on_finish(const Eigen::VectorXd&, Status, const std::string&) {
  if (m_drawn) std::fprintf(m_out, "\n");
}

void SweepProgress::update(const SweepStatus& s) {
  if (!m_terminal && m_last_shown >= 0 && s.wall_s - m_last_shown < m_every_s) return;
  m_last_shown = s.wall_s;
  constexpr int width = 30;  // characters of the bar (ours)
  const int finished = s.done + s.failed;
  const int filled = s.total > 0 ? (width * finished) / s.total : width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  const int ran_here = finished - s.skipped;
  const double left =
      ran_here > 0 ? s.wall_s * (s.total - finished) / ran_here : std::numeric_limits<double>::quiet_NaN();
  const std::string line =
      fmt::format("cases [{}] {}/{} done | {} running | {} failed | {} skipped | {} | left {}", bar, s.done, s.total,
                  s.running, s.failed, s.skipped, duration_text(s.wall_s), duration_text(left));
  show(m_out, m_terminal, line);
  m_drawn = m_terminal;
}

void SweepProgress::finish() {
  if (m_drawn) std::fprintf(m_out, "\n");
  m_drawn = false;
}

}  // namespace kktflow
