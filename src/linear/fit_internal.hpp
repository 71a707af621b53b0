// Shared by fit.cpp, fit_threads.cpp and fit_workers.cpp (not installed).
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
// fit()'s batch loop (fit_threads.cpp) on 1 or 2 threads. On two, thread t owns feature shard t
// (model.hpp): its rows of the model's table (weights and optimizer state) are read and written by it
// alone, and it reads its shard's entries of the data from a copy split by shard, made once. For each
// batch, each thread builds the batch's features of its shard, brings them up to date (the optimizer's
// prepare), sums its shard's partial of each row's scores and hands it to the other; each then adds the
// two (the scores one thread sums, bit for bit), takes the batch's dL/dz (detail::batch_dz) and steps
// its own features; thread 0 also steps the bias and keeps the batch's statistics. So the model, the
// optimizer state and counters and the statistics are one thread's bit for bit. The threads meet
// once a batch: one exchange of B x outputs floats, and the wait for the slower one.
class FitThreads {
 public:
  // `optimizer` bound to `model`, `d` the data every train() reads (kept by reference); threads 1 or 2
  // (UsageError naming "fit_threads" otherwise). On two threads, O(nonzeros) to split the data.
  FitThreads(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& d, std::int64_t threads,
             std::int64_t batch_size);
  ~FitThreads();
  FitThreads(const FitThreads&) = delete;
  FitThreads& operator=(const FitThreads&) = delete;
  // Batches [begin, end) of `rows` (begin a batch start; the last batch stops where `rows` do), in
  // order; each batch's statistics into `stats` (one per batch). A refused batch (a row outside the
  // data, a feature outside the model, a bad label: UsageError) leaves everything as one thread leaves
  // it: the batches before it done. When the OpenMP team comes out smaller (nested in another parallel
  // region) the calling thread runs both shards itself: the same numbers.
  void train(std::span<const std::int64_t> rows, std::int64_t begin, std::int64_t end, std::vector<BatchStats>& stats);
  std::int64_t threads() const noexcept { return threads_; }

 private:
  struct Thread;
  struct Run;
  void run(Run& run, std::int64_t t, std::int64_t threads);
  void check_rows(std::span<const std::int64_t> rows) const;
  LinearModel& model_;
  LinearOptimizer& optimizer_;
  const data::SparseDataView& d_;
  std::int64_t threads_, batch_size_;
  std::vector<Thread> parts_;
  std::vector<data::CsrMatrix> shard_data_;  // on two threads: shard s's entries of every row
  std::vector<std::uint8_t> bad_;            // on two threads: rows with a feature outside the model
};
// How many threads fit() trains `model` on with `options` (FitOptions::threads).
std::int64_t fit_threads(const LinearModel& model, const FitOptions& options);
// fit() with options.workers > 1 (FitOptions::workers): parameter mixing. `train` carries the row
// weights already folded with the class weights.
FitResult fit_workers(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                      const FitOptions& options, const run::Callbacks& callbacks);

}  // namespace adakit::linear::detail
