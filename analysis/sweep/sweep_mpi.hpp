#pragma once
/// \file sweep_mpi.hpp
/// The MPI side of a sweep, through Boost.MPI: rank 0 hands out cases one at a time to whichever
/// rank is free (dynamic load balancing) and the other ranks run them in their own child
/// processes, each writing its own case files. Rank 0 reads the files afterwards, so the sweep
/// directory must be on a file system every rank sees (as a cluster's home or scratch is).
///
/// Messages: a CaseTask from rank 0 (tag task), a TaskOutcome back (tag outcome), and finally
/// an empty stop message (tag stop) to every worker.
#include "analysis/sweep/sweep_processes.hpp"

#include <memory>

namespace kktflow {

/// MPI for the life of a sweep (MPI_Init … MPI_Finalize).
class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  [[nodiscard]] int rank() const;
  [[nodiscard]] int size() const;
  /// Rank 0: the other ranks as a TaskExecutor. Sends them the stop message when destroyed.
  [[nodiscard]] std::unique_ptr<TaskExecutor> workers() const;
  /// Every other rank: runs the tasks rank 0 sends until it sends stop.
  void serve(bool (*interrupted)()) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kktflow
