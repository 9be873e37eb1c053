/// \file sweep_mpi.cpp
/// Rank 0's view of the worker ranks, and the workers' loop (sweep_mpi.hpp), over Boost.MPI.
#include "analysis/sweep/sweep_mpi.hpp"

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <chrono>
#include <set>
#include <thread>

namespace kktflow {
namespace {

namespace mpi = boost::mpi;

/// Our choice: how often an idle worker looks for a message.
constexpr auto kIdlePoll = std::chrono::milliseconds(20);

enum Tag : int { tag_task = 1, tag_outcome = 2, tag_stop = 3 };

/// The ranks other than 0; each runs one case at a time.
class MpiWorkers final : public TaskExecutor {
 public:
  explicit MpiWorkers(const mpi::communicator& world) : m_world(world) {
    for (int rank = 1; rank < world.size(); ++rank) m_idle.insert(rank);
  }
  ~MpiWorkers() override {
    for (int rank = 1; rank < m_world.size(); ++rank) m_world.send(rank, tag_stop);
  }
  MpiWorkers(const MpiWorkers&) = delete;
  MpiWorkers& operator=(const MpiWorkers&) = delete;

  [[nodiscard]] bool can_start() const override { return !m_idle.empty(); }
  [[nodiscard]] int running() const override { return m_world.size() - 1 - static_cast<int>(m_idle.size()); }

  void start(const CaseTask& task) override {
    const int rank = *m_idle.begin();
    m_idle.erase(m_idle.begin());
    m_world.send(rank, tag_task, task);
  }

  std::vector<TaskOutcome> poll() override {
    std::vector<TaskOutcome> ended;
    while (const auto status = m_world.iprobe(mpi::any_source, tag_outcome)) {
      TaskOutcome outcome;
      m_world.recv(status->source(), tag_outcome, outcome);
      m_idle.insert(status->source());
      ended.push_back(std::move(outcome));
    }
    return ended;
  }

  /// mpirun forwards SIGINT and SIGTERM to every rank, and each worker interrupts its own child.
  void interrupt() override {}

 private:
  const mpi::communicator& m_world;
  std::set<int> m_idle;
};

}  // namespace

struct MpiSession::Impl {
  mpi::environment environment;
  mpi::communicator world;
};

MpiSession::MpiSession() : m_impl(std::make_unique<Impl>()) {}
MpiSession::~MpiSession() = default;

int MpiSession::rank() const { return m_impl->world.rank(); }
int MpiSession::size() const { return m_impl->world.size(); }

std::unique_ptr<TaskExecutor> MpiSession::workers() const { return std::make_unique<MpiWorkers>(m_impl->world); }

void MpiSession::serve(bool (*interrupted)()) const {
  const mpi::communicator& world = m_impl->world;
  for (;;) {
    // iprobe and sleep rather than probe: OpenMPI's blocking calls spin, and an idle worker
    // would take a core from the cases still running.
    const auto status = world.iprobe(0, mpi::any_tag);
    if (!status) {
      std::this_thread::sleep_for(kIdlePoll);
      continue;
    }
    if (status->tag() == tag_stop) {
      world.recv(0, tag_stop);
      return;
    }
    CaseTask task;
    world.recv(0, tag_task, task);
    world.send(0, tag_outcome, run_task_to_end(task, interrupted));
  }
}

}  // namespace kktflow
