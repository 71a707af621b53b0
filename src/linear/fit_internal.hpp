// Shared by fit.cpp and fit_workers.cpp (not installed).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "adakit/linear/fit.hpp"

namespace adakit::linear::detail {

// into += s, field by field.
void add(BatchStats& into, const BatchStats& s);
// The epoch's progressive metrics from its summed batch statistics.
Metrics to_metrics(const LinearModel& model, const BatchStats& st);
// Batch [b, b + batch_size) of `rows` (clipped to its end): build, prepare, gradient, step, with the
// prefetch hints for the batches ahead (which may lie past the part being trained: hints only).
// Returns what the batch's forward pass saw; grad.z then holds the batch's scores.
BatchStats train_batch(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                       std::span<const std::int64_t> rows, std::int64_t b, std::int64_t batch_size,
                       BatchFeatures& batch, SparseGradient& grad);
// One pass of fit()'s batch loop over `rows` in order, batches of `batch_size` (the last may be
// smaller): train_batch after train_batch. Returns the summed statistics of the batches.
BatchStats train_rows(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                      std::span<const std::int64_t> rows, std::int64_t batch_size, BatchFeatures& batch,
                      SparseGradient& grad);

// fit() on several threads for a one-vs-rest model: its outputs in `count` contiguous slices (sizes
// differing by at most one), each trained by its own thread over every row, in fit()'s order, with its
// own share of the optimizer state (LinearModel::output_slice, LinearOptimizer::slice_state). Every
// coordinate then follows exactly the steps it takes in the whole model, so the model, the state and
// the progressive metrics (computed from every output's scores, in row order) are bit for bit those of
// one thread. The whole model is stale while the slices train: put_back() makes it current.
class OutputSlices {
 public:
  // Slices `model` (which `optimizer` is bound to) into `count` >= 2 parts (LinearModel::output_slice's
  // conditions), on `count` threads.
  OutputSlices(const LinearModel& model, const LinearOptimizer& optimizer, std::int64_t count);
  ~OutputSlices();
  // Batches [begin, end) of `rows` (begin a batch start), each slice on its thread; then each batch's
  // statistics as fit()'s loop measures them, into `stats` (one per batch, in order).
  void train(const data::SparseDataView& train, std::span<const std::int64_t> rows, std::int64_t begin,
             std::int64_t end, std::int64_t batch_size, std::vector<BatchStats>& stats);
  void sync();  // every slice's optimizer.sync(slice)
  // Writes the slices' weights and state into the whole model and its optimizer (nothing when they
  // have not changed since the last put_back).
  void put_back(LinearModel& model, LinearOptimizer& optimizer);
  std::int64_t count() const noexcept { return count_; }
  std::int64_t steps() const;  // the optimizer's steps() so far (every slice's)

 private:
  struct Part;
  LinearTask task_;
  std::int64_t outputs_, count_;
  std::vector<Part> parts_;
  std::vector<float> z_;  // the scores of the rows being trained, rows x outputs
  bool put_back_ = false;  // the whole model holds the slices as they are
};
// How many slices fit() trains `model` in with `options` on num_threads() threads (1: the whole model
// on one thread; see FitOptions::slices).
std::int64_t output_slices(const LinearModel& model, const FitOptions& options);
// fit() with options.workers > 1 (FitOptions::workers): parameter mixing. `train` carries the row
// weights already folded with the class weights.
FitResult fit_workers(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                      const FitOptions& options, const run::Callbacks& callbacks);

}  // namespace adakit::linear::detail
