// What every training loop reports (train::fit, linear::fit, dist::sparse_fit, embed::train_glove):
// one Metrics, one BatchReport, one EpochReport. A loop fills the fields it has and leaves the others
// at their defaults (NaN metrics, zero counts): the dense loop has a validation set and skipped steps,
// the linear loops count optimizer steps, GloVe reports its cost as the training loss.
#pragma once
#include <cstdint>
#include <limits>

namespace adakit::run {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Metrics {
  double loss = kNaN;       // mean loss
  double accuracy = kNaN;   // classification
  double mse = kNaN;        // regression: mean (z − y)²
  std::int64_t samples = 0;
};

struct BatchReport {
  std::int64_t epoch, epochs, batch, batches;  // epoch and batch count from 1
  double loss;     // this batch (GloVe: the running mean over the iteration so far)
  double seconds;  // since training started
  // The linear loops: the batch's sums as measured before its step (progressive validation).
  std::int64_t samples = 0, correct = 0;
  double loss_sum = 0.0, squared_error_sum = 0.0;
};

struct EpochReport {
  std::int64_t epoch = 0, epochs = 0;  // epoch counts from 1
  Metrics train;                       // over the epoch's rows, as the loop measures them
  Metrics validation;                  // a held-out set's (train::fit); NaN fields without one
  double epoch_seconds = 0.0;          // this epoch's wall time
  double seconds = 0.0;                // since training started (a resumed run's includes the time before)
  std::int64_t skipped_steps = 0;      // steps skipped for a non-finite loss or gradient (GloVe: records)
  std::int64_t steps = 0;              // optimizer steps so far (the linear loops)
};

}  // namespace adakit::run
