// Training and using sparse linear models.
//
//   auto model = linear::LinearModel::for_dataset(train);           // logistic / softmax / squared
//   auto opt = linear::make_linear_optimizer("ftrl", {{"l1", "1"}});
//   auto result = linear::fit(model, *opt, train, {.epochs = 5, .batch_size = 1, .seed = 1});
//   auto m = linear::evaluate(model, test);                         // loss, accuracy or mse
//
// fit() walks the rows in seeded-shuffled order (adakit::Rng, Fisher–Yates, one shuffle per epoch
// continuing one stream), batch by batch (the last batch may be smaller): prepare, gradient (mean
// over the batch), step. Per-epoch metrics are PROGRESSIVE: each batch's loss and accuracy measured
// before its own step, averaged over the epoch's rows (as McMahan et al. 2013 report) — so an epoch
// costs O(its nonzeros), never O(dim). fit() calls optimizer.sync(model) before each epoch's callbacks
// and before returning, so the model is ready to predict and save.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/run/callback.hpp"
#include "adakit/run/predictions.hpp"
#include "adakit/run/report.hpp"

namespace adakit::linear {

struct FitOptions {
  std::int64_t epochs = 5;
  std::int64_t batch_size = 1;
  std::uint64_t seed = 0;
  bool shuffle = true;
  // true: fit() syncs the optimizer before each epoch's callbacks and before returning (see the top).
  // false: never; the weights are left as the lazy optimizers left them (sync before reading them all).
  // A sync applies a feature's missed L1/L2 shrinks in closed form at that point, which rounds
  // differently from applying them later in one piece: without syncs, fit(A) then fit(B) (warm start,
  // stream chunks) ends bit-identical to one fit over A then B for every optimizer.
  bool sync = true;
  void validate() const;  // UsageError naming the field: epochs >= 0, batch_size >= 1
};

// The run layer's reports (run/report.hpp), under their old names. fit() fills Metrics' loss, accuracy
// (classification) or mse (regression: mean (z − y)² = 2 × the squared loss) and samples; EpochReport's
// epoch, epochs, train (progressive, see above), steps (optimizer steps so far), seconds (since fit()
// started) and epoch_seconds (seconds since the previous report).
using run::kNaN;
using Metrics = run::Metrics;
using EpochReport = run::EpochReport;

struct FitResult {
  std::vector<EpochReport> history;  // a resumed run's includes the epochs before it
  std::int64_t steps = 0;
  double seconds = 0.0;              // a resumed run's includes the time before it
  bool stopped_early = false;
};

// fit()'s row order: 0..n-1, shuffled (Fisher–Yates) at the start of every epoch by one seeded
// adakit::Rng stream that continues across epochs. dist::sparse_fit walks the same order.
class EpochOrder {
 public:
  EpochOrder(std::int64_t rows, std::uint64_t seed, bool shuffle);
  void next_epoch();  // the next epoch's order (the first call gives the first epoch's)
  std::span<const std::int64_t> rows() const noexcept { return order_; }

 private:
  std::vector<std::int64_t> order_;
  Rng rng_;
  bool shuffle_;
};

// Where a run stands, for checkpoints: `epoch` epochs started (their shuffles applied), and the next
// batch of the current one begins at row `next` of its order ({0, 0}: nothing done yet); the current
// epoch's progressive sums so far, the reports of the epochs done and the seconds spent, so that a
// resumed run reports what an uninterrupted one does.
struct FitState {
  std::int64_t epoch = 0, next = 0;
  BatchStats partial;
  std::vector<EpochReport> history;
  double seconds = 0.0;
};

// Checkpointing (adakit train --checkpoint / --resume). `save` gets the run's state when
// run::CheckpointSchedule(every, batches per epoch) says a checkpoint is due: at the end of every
// `every`-th batch of the run (counted over epochs; 0: at the end of every epoch), and once more at the
// end of training; the model and the optimizer then hold exactly what that state continues from (save
// their state() with it; a lazy optimizer's weights are saved as they are, not synced).
// `resume`: continue from such a state, the model and optimizer restored as they were saved and the
// same data, options and seed; fit() replays the shuffles of the epochs started (O(rows · epochs)).
// The run then ends bit for bit as the uninterrupted one.
struct FitCheckpoints {
  std::int64_t every = 0;
  std::function<void(const FitState&)> save;
  const FitState* resume = nullptr;
};

// Binds the optimizer to the model on first use (optimizer.bind), so calling fit() again continues
// training. UsageError when the data do not fit the model (columns > dim, labels out of range, no
// targets for regression) or a resumed state does not fit the data. `callbacks` (run/callback.hpp: a
// list of run::Callback, or one function of the EpochReport): on_train_begin, on_epoch_end after each
// epoch (true stops; fit() syncs the optimizer before, when there are callbacks), on_train_end.
FitResult fit(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
              const FitOptions& options = {}, const run::Callbacks& callbacks = {},
              const FitCheckpoints& checkpoints = {});

// Over the whole dataset, with the model's current weights.
Metrics evaluate(const LinearModel& model, const data::SparseDataView& d);
// Scores z = Wᵀx + b: [rows, outputs] (regression: the predictions).
Tensor decision_function(const LinearModel& model, const data::CsrView& x);
// Classes (logistic: z > 0; softmax: first argmax). UsageError for a regression model.
std::vector<std::int32_t> predict(const LinearModel& model, const data::CsrView& x);
// Class probabilities [rows, classes] (logistic: (1 − σ(z), σ(z))). UsageError for regression.
Tensor predict_proba(const LinearModel& model, const data::CsrView& x);
// What `adakit predict` reports for `d` (run/predictions.hpp): classification, the classes, their
// probabilities when `probabilities` (predict_proba) and the accuracy when every row has a label;
// regression, one prediction per row (outputs [rows]) and the mse when every row has a target.
run::Predictions predictions(const LinearModel& model, const data::SparseDataView& d, bool probabilities);

}  // namespace adakit::linear
