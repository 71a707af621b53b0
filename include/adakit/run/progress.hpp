// Progress reporting for every training loop: a one-line progress bar (epoch, loss, ETA) redrawn on a
// terminal, or one plain log line per epoch when the stream is not a terminal:
//   epoch 3/10 loss 0.4121 acc 0.8750 val_loss 0.4502 val_acc 0.8667 (0.2s)
// (NaN metrics left out; " skipped N non-finite steps" appended when the epoch skipped any).
#pragma once
#include <cstdio>

#include "adakit/run/callback.hpp"

namespace adakit::run {

class ProgressPrinter final : public Callback {
 public:
  enum class Mode { automatic, bar, lines };
  explicit ProgressPrinter(std::FILE* out = stderr, Mode mode = Mode::automatic);
  void on_train_begin(std::int64_t epochs, std::int64_t batches_per_epoch) override;
  void on_batch_end(const BatchReport& r) override;
  bool wants_batches() const override { return bar_; }  // plain lines: the epochs only
  bool on_epoch_end(const EpochReport& r) override;
  void on_train_end() override;

 private:
  std::FILE* out_;
  bool bar_;
  std::int64_t epochs_ = 0, batches_ = 0;
  double last_draw_ = -1.0;
};

}  // namespace adakit::run
