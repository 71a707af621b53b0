// When a training run saves a checkpoint: the one schedule of train::fit's checkpoint writers
// (io::CheckpointWriter, dist's gathering writer), linear::fit and the sparse trainer under mpirun.
//
// Batches are counted over the whole run: after batch b (1-based) of epoch e (1-based) of
// P batches an epoch, D(e, b) = (e − 1)·P + b batches are done. With every = N > 0 a checkpoint is
// due after every batch where D(e, b) mod N = 0; with every = 0, at the end of every epoch; always at
// the end of training. A resumed run continues the count from its position, so it saves where the
// uninterrupted run would.
#pragma once
#include <cstdint>

#include "adakit/run/callback.hpp"

namespace adakit::run {

// ceil(rows / batch_size): the batches that cover `rows` rows (batch_size >= 1).
constexpr std::int64_t batches_for(std::int64_t rows, std::int64_t batch_size) {
  return (rows + batch_size - 1) / batch_size;
}

class CheckpointSchedule {
 public:
  // UsageError (field "checkpoint_every") when every_batches < 0.
  CheckpointSchedule(std::int64_t every_batches, std::int64_t batches_per_epoch);

  std::int64_t every() const noexcept { return every_; }
  std::int64_t batches_per_epoch() const noexcept { return per_epoch_; }
  // D(e, b); epoch 0 (nothing started) counts 0.
  std::int64_t batches_done(std::int64_t epoch, std::int64_t batch) const noexcept {
    return epoch == 0 ? 0 : (epoch - 1) * per_epoch_ + batch;
  }
  // Due after batch `batch` of `epoch` (every > 0 and D mod every = 0).
  bool after_batch(std::int64_t epoch, std::int64_t batch) const noexcept {
    return every_ > 0 && batches_done(epoch, batch) % every_ == 0;
  }
  // Due at an epoch's end (every = 0).
  bool at_epoch_end() const noexcept { return every_ == 0; }
  // At a StatePoint of a resumable loop; (epoch, batch) is the position announced there.
  bool due(StatePoint point, std::int64_t epoch, std::int64_t batch) const noexcept;
  // From the position (epoch, batch), batch < P or epoch 0 for the start of the run, batches until the
  // next checkpoint: N − D mod N, or (every = 0) the rest of the epoch, a whole one at a boundary.
  std::int64_t batches_to_next(std::int64_t epoch, std::int64_t batch) const noexcept;

 private:
  std::int64_t every_, per_epoch_;
};

}  // namespace adakit::run
