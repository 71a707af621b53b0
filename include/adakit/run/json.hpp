// The run layer's JSON, as checkpoints keep a run's reports: doubles as exact text (the shortest that
// reads back to the same bits, "nan" for NaN: optim::format_double), counts as JSON integers.
//   metrics  {"loss": "0.25", "accuracy": "0.875", "mse": "nan", "samples": 64}
//   epoch    {"epoch": 1, "epochs": 3, "train": <metrics>, ...the fields the loop fills (EpochFields)}
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "adakit/run/report.hpp"

namespace adakit::run {

nlohmann::json metrics_json(const Metrics& m);

// The EpochReport fields a loop fills, besides epoch, epochs and train.
struct EpochFields {
  bool validation = false, epoch_seconds = false, seconds = false, skipped_steps = false, steps = false;
};
// train::fit's reports (io's dense checkpoints) and the linear loops' (io's linear checkpoints).
inline constexpr EpochFields kDenseEpochFields{.validation = true, .epoch_seconds = true, .seconds = true,
                                               .skipped_steps = true};
inline constexpr EpochFields kLinearEpochFields{.seconds = true, .steps = true};

nlohmann::json epoch_json(const EpochReport& r, const EpochFields& fields);
// A JSON array of epoch_json objects.
nlohmann::json history_json(const std::vector<EpochReport>& history, const EpochFields& fields);

}  // namespace adakit::run
