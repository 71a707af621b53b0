#include "adakit/run/callback.hpp"

namespace adakit::run {

void Callbacks::train_begin(std::int64_t epochs, std::int64_t batches_per_epoch) const {
  for (auto* cb : list_) cb->on_train_begin(epochs, batches_per_epoch);
}

void Callbacks::batch_end(const BatchReport& r) const {
  for (auto* cb : list_) cb->on_batch_end(r);
}

bool Callbacks::epoch_end(const EpochReport& r) const {
  bool stop = false;
  for (auto* cb : list_) stop = cb->on_epoch_end(r) || stop;
  if (on_epoch_) stop = on_epoch_(r) || stop;
  return stop;
}

void Callbacks::train_end() const {
  for (auto* cb : list_) cb->on_train_end();
}

}  // namespace adakit::run
