#pragma once
/// \file stored_checkpoint.hpp
/// A checkpoint as a run file stores it (checkpoint_store.hpp writes and reads it): the driver's
/// state and where the file's rows ended when it was taken.
#include "solver/run_state.hpp"

#include <cstdint>

namespace kktflow {

/// Rows of the appendable groups that a checkpoint's run had written when it was taken.
struct RowCounts {
  std::int64_t trajectory = 0;
  std::int64_t events = 0;
  std::int64_t snapshots = 0;
};

/// A checkpoint as stored: the driver's state, where the file's rows end, and its sequence.
struct StoredCheckpoint {
  RunState driver;
  RowCounts rows;
  std::int64_t sequence = 0;
};

/// Where the current checkpoint of a run stands, for `kktflow info`.
struct CheckpointPosition {
  std::int64_t step = 0;
  double log_t = 0;
  std::int64_t sequence = 0;
};

}  // namespace kktflow
