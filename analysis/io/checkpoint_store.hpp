#pragma once
/// \file checkpoint_store.hpp
/// /checkpoint of a run file (docs/file-format.md): two slots that take RunStates in
/// turn, so that a run killed at any moment, even while it writes a checkpoint, keeps a complete
/// one.
///
/// Atomicity: a checkpoint goes to the slot that is not current, the file is flushed, and only
/// then is that slot's entry of /checkpoint/sequence raised above the other's, and the file
/// flushed again. The current checkpoint is the slot with the larger sequence (0: never
/// written); until the second flush it is the old one, which the write did not touch. The
/// layout is made before the file enters SWMR mode (no object can be created under it): every
/// vector is a chunked dataset that only grows, with the length in use in `lengths`.
#include "analysis/io/h5.hpp"
#include "analysis/io/stored_checkpoint.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace kktflow {

/// The open /checkpoint group of a file being written.
class CheckpointSlots {
 public:
  /// Creates /checkpoint under `root` with both slots empty.
  static CheckpointSlots create(h5::Group& root);
  /// Opens an existing /checkpoint (to continue a run); throws h5::Error when there is none.
  static CheckpointSlots open(const h5::Group& root);

  /// Writes `checkpoint` atomically as described above; `file` is flushed twice.
  void write(h5::File& file, const RunState& checkpoint, const RowCounts& rows);

 private:
  CheckpointSlots(h5::Dataset sequence, std::array<h5::Group, 2> slots);

  h5::Dataset m_sequence;
  std::array<h5::Group, 2> m_slots;
  std::array<std::int64_t, 2> m_sequences{};
};

/// The position of the current checkpoint under `root`; nothing when the file has no
/// /checkpoint or no slot has been written.
std::optional<CheckpointPosition> read_checkpoint_position(const h5::Group& root);

/// The current checkpoint under `root`. Throws h5::Error when the file has no /checkpoint or
/// no slot has been written, naming the file.
StoredCheckpoint read_checkpoint(const h5::Group& root);

}  // namespace kktflow
