#include "adakit/run/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <string>

namespace adakit::run {
namespace {
std::string metric(const char* name, double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, " %s %.4f", name, v);
  return buf;
}
std::string duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return buf;
}
}  // namespace

ProgressPrinter::ProgressPrinter(std::FILE* out, Mode mode)
    : out_(out), bar_(mode == Mode::bar || (mode == Mode::automatic && ::isatty(::fileno(out)) != 0)) {}

void ProgressPrinter::on_train_begin(std::int64_t epochs, std::int64_t batches) {
  epochs_ = epochs;
  batches_ = batches;
}

void ProgressPrinter::on_batch_end(const BatchReport& r) {
  if (!bar_) return;
  if (r.seconds - last_draw_ < 0.1 && r.batch != r.batches) return;  // at most 10 redraws a second
  last_draw_ = r.seconds;
  const double done = (static_cast<double>(r.epoch - 1) * static_cast<double>(r.batches) + static_cast<double>(r.batch)) /
                      (static_cast<double>(r.epochs) * static_cast<double>(r.batches));
  const double eta = done > 0 ? r.seconds * (1.0 - done) / done : 0.0;
  const int width = 24;
  const int filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(r.batch) / static_cast<double>(r.batches));
  std::string bar(static_cast<std::size_t>(filled), '=');
  bar.resize(static_cast<std::size_t>(width), ' ');
  std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld loss %.4f ETA %s", static_cast<long long>(r.epoch),
               static_cast<long long>(r.epochs), bar.c_str(), static_cast<long long>(r.batch),
               static_cast<long long>(r.batches), r.loss, duration(eta).c_str());
  std::fflush(out_);
}

bool ProgressPrinter::on_epoch_end(const EpochReport& r) {
  if (bar_) std::fprintf(out_, "\r\033[K");
  std::string line = "epoch " + std::to_string(r.epoch) + "/" + std::to_string(r.epochs) +
                     metric("loss", r.train.loss) + metric("acc", r.train.accuracy) +
                     metric("val_loss", r.validation.loss) + metric("val_acc", r.validation.accuracy) +
                     " (" + duration(r.epoch_seconds) + ")";
  if (r.skipped_steps > 0) line += " skipped " + std::to_string(r.skipped_steps) + " non-finite steps";
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
  return false;
}

void ProgressPrinter::on_train_end() { std::fflush(out_); }

}  // namespace adakit::run
