#include "adakit/run/progressive.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "adakit/core/error.hpp"

namespace adakit::run {
namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
nlohmann::json number(double v) { return v == v ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json to_json(const ProgressReport& r) {
  nlohmann::json j = {{"examples", r.examples}, {"loss", number(r.since_start.loss)},
                      {"since_last_loss", number(r.since_last.loss)}, {"seconds", r.seconds}};
  if (r.since_start.accuracy == r.since_start.accuracy) j["accuracy"] = r.since_start.accuracy;
  if (r.since_start.mse == r.since_start.mse) j["mse"] = r.since_start.mse;
  return j;
}

std::string to_text(const ProgressReport& r) {
  char buf[160];
  const bool acc = r.since_start.accuracy == r.since_start.accuracy;
  std::snprintf(buf, sizeof buf, "examples %lld  loss %.4f  since last %.4f  %s %.4f",
                static_cast<long long>(r.examples), r.since_start.loss, r.since_last.loss, acc ? "acc" : "mse",
                acc ? r.since_start.accuracy : r.since_start.mse);
  return buf;
}

ProgressiveValidation::ProgressiveValidation(std::int64_t every, bool classification,
                                             std::function<void(const ProgressReport&)> sink)
    : every_(every), classification_(classification), sink_(std::move(sink)), next_report_(every), t0_(now_seconds()) {
  if (every < 1) throw UsageError("progressive validation: report every >= 1 examples, got " + std::to_string(every),
                                  {"", 0, "progress-every"});
}

void ProgressiveValidation::on_batch_end(const BatchReport& r) {
  for (Sums* s : {&total_, &window_}) {
    s->samples += r.samples;
    s->correct += r.correct;
    s->loss += r.loss_sum;
    s->squared_error += r.squared_error_sum;
  }
  if (total_.samples >= next_report_) {
    report();
    next_report_ = (total_.samples / every_ + 1) * every_;
  }
}

void ProgressiveValidation::finish() {
  if (window_.samples > 0) report();
}

Metrics ProgressiveValidation::metrics(const Sums& s) const {
  Metrics m;
  m.samples = s.samples;
  if (s.samples == 0) return m;
  const auto n = static_cast<double>(s.samples);
  m.loss = s.loss / n;
  if (classification_) m.accuracy = static_cast<double>(s.correct) / n;
  else m.mse = s.squared_error / n;
  return m;
}

ProgressReport ProgressiveValidation::current() const {
  return {total_.samples, metrics(total_), metrics(window_), now_seconds() - t0_};
}

void ProgressiveValidation::report() {
  reports_.push_back(current());
  window_ = {};
  if (sink_) sink_(reports_.back());
}

}  // namespace adakit::run
