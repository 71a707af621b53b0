// Shared by fit.cpp and fit_workers.cpp (not installed).
#pragma once
#include <cstdint>
#include <span>

#include "adakit/linear/fit.hpp"

namespace adakit::linear::detail {

// into += s, field by field.
void add(BatchStats& into, const BatchStats& s);
// The epoch's progressive metrics from its summed batch statistics.
Metrics to_metrics(const LinearModel& model, const BatchStats& st);
// One pass of fit()'s batch loop over `rows` in order, batches of `batch_size` (the last may be
// smaller): build, prepare, gradient, step — the same calls, prefetching included. Returns the summed
// statistics of the batches (measured before each batch's own step).
BatchStats train_rows(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                      std::span<const std::int64_t> rows, std::int64_t batch_size, BatchFeatures& batch,
                      SparseGradient& grad);
// fit() with options.workers > 1 (FitOptions::workers): parameter mixing. `train` carries the row
// weights already folded with the class weights.
FitResult fit_workers(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                      const FitOptions& options, const run::Callbacks& callbacks);

}  // namespace adakit::linear::detail
