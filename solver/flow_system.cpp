#include "flow_system.hpp"
#include "record.hpp"

#include "problems/named_values.hpp"

#include <stdexcept>
#include <string>

namespace kktflow {

FlowSystem::FlowSystem(MarginSystem& outputs, SquareLoss loss)
    : m_margins(outputs),
      m_loss(LossKind::exp),
      m_square(std::move(loss)),
      m_mode(TimeMode::t),
      m_q(outputs.num_margins()),
      m_w(outputs.num_margins()) {
  if (m_square->targets().size() != m_q.size())
    throw std::invalid_argument("square loss: " + std::to_string(m_square->targets().size()) + " targets for " +
                                std::to_string(m_q.size()) + " model outputs");
}

const NamedValues<TimeMode> kTimeNames{
    {"t", TimeMode::t}, {"loss", TimeMode::loss}, {"normalized", TimeMode::normalized}};

TimeMode parse_time_mode(const std::string& text, const std::string& key) { return kTimeNames.parse(text, key); }
std::string to_string(TimeMode mode) { return kTimeNames.name(mode); }

std::string to_string(Status s) {
  switch (s) {
    case Status::converged:
      return "converged";
    case Status::log_t_max:
      return "log_t_max";
    case Status::wall_budget:
      return "wall_budget";
    case Status::step_budget:
      return "step_budget";
    case Status::non_finite:
      return "non_finite";
    case Status::no_progress:
      return "no_progress";
    case Status::interrupted:
      return "interrupted";
    case Status::stationary:
      return "stationary";
    case Status::not_separated:
      return "not_separated";
  }
  return "unknown";
}

}  // namespace kktflow
