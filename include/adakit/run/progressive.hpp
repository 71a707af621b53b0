// Progressive validation, as Vowpal Wabbit's "average loss" table: every example is scored by the model
// BEFORE it is learnt from, so the running mean of those losses estimates the loss on unseen data without
// a held-out set (Blum, Kalai & Langford, "Beating the hold-out: bounds for k-fold and progressive
// cross-validation", COLT 1999). A Callback over the linear loops' BatchReports (their batch sums are
// measured before the step): it reports every `every` examples, counted over every run it hears (one
// object across stream chunks or warm-started calls), with the mean since the start and since the
// previous report.
//
//   run::ProgressiveValidation pv(100000, true, [](const run::ProgressReport& r) { ... });
//   linear::fit(model, opt, chunk, options, std::vector<run::Callback*>{&pv});   // per chunk
//   pv.finish();                                                                  // the tail
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/run/callback.hpp"

namespace adakit::run {

struct ProgressReport {
  std::int64_t examples = 0;  // learnt so far
  Metrics since_start;        // progressive: over every example so far
  Metrics since_last;         // over the examples since the previous report
  double seconds = 0.0;       // since the object was made
};
// {"examples", "loss", "since_last_loss", "accuracy" | "mse", "seconds"} (NaN metrics as null).
nlohmann::json to_json(const ProgressReport& r);
// "examples 200000  loss 0.3412  since last 0.3218  acc 0.8512" (classification) or "... mse ...".
std::string to_text(const ProgressReport& r);

class ProgressiveValidation final : public Callback {
 public:
  // every >= 1; `classification` picks accuracy or mse; `sink` hears each report (may be empty).
  ProgressiveValidation(std::int64_t every, bool classification, std::function<void(const ProgressReport&)> sink = {});
  void on_batch_end(const BatchReport& r) override;
  // Reports the examples since the last report, if any (call at the end of the stream).
  void finish();
  const std::vector<ProgressReport>& reports() const noexcept { return reports_; }
  // What a report now would say (no report is made).
  ProgressReport current() const;

 private:
  struct Sums {
    std::int64_t samples = 0, correct = 0;
    double loss = 0.0, squared_error = 0.0;
  };
  Metrics metrics(const Sums& s) const;
  void report();

  std::int64_t every_;
  bool classification_;
  std::function<void(const ProgressReport&)> sink_;
  Sums total_, window_;
  std::int64_t next_report_;
  double t0_;
  std::vector<ProgressReport> reports_;
};

}  // namespace adakit::run
