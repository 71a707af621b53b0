#include "adakit/run/schedule.hpp"

#include <string>

#include "adakit/core/error.hpp"

namespace adakit::run {

CheckpointSchedule::CheckpointSchedule(std::int64_t every_batches, std::int64_t batches_per_epoch)
    : every_(every_batches), per_epoch_(batches_per_epoch) {
  if (every_ < 0)
    throw UsageError("the checkpoint interval must be >= 0 batches, got " + std::to_string(every_),
                     {"", 0, "checkpoint_every"});
}

bool CheckpointSchedule::due(StatePoint point, std::int64_t epoch, std::int64_t batch) const noexcept {
  switch (point) {
    case StatePoint::batch_end: return after_batch(epoch, batch);
    case StatePoint::epoch_end: return at_epoch_end();
    case StatePoint::train_end: return true;
  }
  return false;
}

std::int64_t CheckpointSchedule::batches_to_next(std::int64_t epoch, std::int64_t batch) const noexcept {
  if (every_ > 0) return every_ - batches_done(epoch, batch) % every_;
  return epoch == 0 || batch >= per_epoch_ ? per_epoch_ : per_epoch_ - batch;
}

}  // namespace adakit::run
