#include "adakit/linear/fit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "adakit/core/error.hpp"
#include "adakit/core/logistic.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/run/schedule.hpp"
#include "fit_internal.hpp"

namespace adakit::linear {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// O(rows): the data fit the model (columns, labels or targets). Feature ids are checked as read.
void check_data(const LinearModel& model, const data::SparseDataView& d) {
  if (d.features.cols > model.dim())
    throw UsageError("dataset '" + std::string(d.name) + "' has " + std::to_string(d.features.cols) +
                         " feature columns, the model's dim is " + std::to_string(model.dim()),
                     {"", 0, "dim"});
  if (model.task() == LinearTask::squared) {
    if (d.targets.size() != sz(d.size()))
      throw UsageError("linear regression needs one target per row: dataset '" + std::string(d.name) + "' has " +
                           std::to_string(d.targets.size()) + " for " + std::to_string(d.size()) + " rows",
                       {"", 0, "targets"});
    return;
  }
  if (d.labels.size() != sz(d.size()))
    throw UsageError("classification needs one label per row: dataset '" + std::string(d.name) + "' has " +
                         std::to_string(d.labels.size()) + " for " + std::to_string(d.size()) + " rows",
                     {"", 0, "labels"});
  if (d.is_multilabel()) {
    if (model.task() != LinearTask::ova)
      throw UsageError("dataset '" + std::string(d.name) + "' is multilabel (several labels a row): it takes an ova model, not " +
                           std::string(to_string(model.task())),
                       {"", 0, "labels"});
    if (d.label_offsets.size() != sz(d.size()) + 1 || d.label_offsets.front() != 0 ||
        d.label_offsets.back() != static_cast<std::int64_t>(d.label_ids.size()))
      throw UsageError("dataset '" + std::string(d.name) + "': its label sets do not cover its " + std::to_string(d.size()) +
                           " rows",
                       {"", 0, "labels"});
  }
  for (std::int64_t r = 0; r < d.size(); ++r) {
    const auto labels = d.row_labels(r);
    if (labels.empty())
      throw UsageError("row " + std::to_string(r) + " of '" + std::string(d.name) + "' has no label", {"", r + 1, "labels"});
    for (const std::int32_t label : labels)
      if (label < 0 || label >= model.classes())
        throw UsageError("row " + std::to_string(r) + " of '" + std::string(d.name) + "' has label " + std::to_string(label) +
                             ", the model has " + std::to_string(model.classes()) + " classes",
                         {"", r + 1, "labels"});
  }
}

using detail::add;
using detail::to_metrics;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void FitOptions::validate() const {
  if (epochs < 0) throw UsageError("fit: epochs must be >= 0, got " + std::to_string(epochs), {"", 0, "epochs"});
  if (batch_size < 1)
    throw UsageError("fit: batch_size must be >= 1, got " + std::to_string(batch_size), {"", 0, "batch_size"});
  for (std::size_t c = 0; c < class_weights.size(); ++c)
    if (!std::isfinite(class_weights[c]) || class_weights[c] < 0.0f)
      throw UsageError("fit: class " + std::to_string(c) + "'s weight " + std::to_string(class_weights[c]) +
                           " is not a finite number >= 0",
                       {"", 0, "class_weight"});
  if (workers < 1 || workers > 16)
    throw UsageError("fit: workers must be in [1, 16], got " + std::to_string(workers), {"", 0, "workers"});
  if (threads < 0 || threads > 2)
    throw UsageError("fit: threads must be 0 (auto), 1 or 2, got " + std::to_string(threads), {"", 0, "fit_threads"});
  if (threads > 1 && workers > 1)
    throw UsageError("fit: threads > 1 trains one learner on several threads, workers > 1 trains several "
                     "learners: give one of them",
                     {"", 0, "fit_threads"});
}

std::vector<float> balanced_class_weights(std::span<const std::int32_t> labels, std::int64_t classes) {
  if (classes < 1) throw UsageError("balanced class weights need at least one class", {"", 0, "class_weight"});
  std::vector<std::int64_t> count(sz(classes), 0);
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0 || labels[r] >= classes)
      throw UsageError("label " + std::to_string(labels[r]) + " is outside [0, " + std::to_string(classes) + ")",
                       {"", static_cast<std::int64_t>(r) + 1, "class_weight"});
    ++count[sz(labels[r])];
  }
  const auto n = static_cast<double>(labels.size());
  std::vector<float> out(sz(classes), 1.0f);
  for (std::size_t c = 0; c < out.size(); ++c)
    if (count[c] > 0) out[c] = static_cast<float>(n / (static_cast<double>(classes) * static_cast<double>(count[c])));
  return out;
}

std::vector<float> row_weights(const data::SparseDataView& d, std::span<const float> class_weights) {
  const std::int64_t n = d.size();
  data::check_weights(d.weights, n, std::string(d.name));
  std::vector<float> out(d.weights.begin(), d.weights.end());
  if (out.empty()) out.assign(sz(n), 1.0f);
  if (class_weights.empty()) return out;
  if (d.labels.size() != sz(n))
    throw UsageError("class weights need class labels: dataset '" + std::string(d.name) + "' has none",
                     {"", 0, "class_weight"});
  for (std::size_t r = 0; r < out.size(); ++r) {
    const std::int32_t y = d.labels[r];
    if (y < 0 || sz(y) >= class_weights.size())
      throw UsageError("row " + std::to_string(r) + "'s label " + std::to_string(y) + " has no class weight (" +
                           std::to_string(class_weights.size()) + " given)",
                       {"", static_cast<std::int64_t>(r) + 1, "class_weight"});
    out[r] *= class_weights[sz(y)];
  }
  return out;
}

EpochOrder::EpochOrder(std::int64_t rows, std::uint64_t seed, bool shuffle)
    : order_(sz(std::max<std::int64_t>(rows, 0))), rng_(seed), shuffle_(shuffle) {
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
}

void EpochOrder::next_epoch() {
  if (!shuffle_) return;
  const auto n = static_cast<std::int64_t>(order_.size());
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(order_[sz(i)], order_[sz(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(i + 1))))]);
}

namespace {

void check_resume(const FitState& st, std::int64_t n, std::int64_t batch_size, std::int64_t epochs) {
  auto bad = [](const std::string& field, const std::string& what) {
    throw UsageError("fit: cannot resume: " + what, {"", 0, field});
  };
  if (st.epoch < 0) bad("epoch", "epoch " + std::to_string(st.epoch) + " is negative");
  // (also bounds the replay of the shuffles, one per epoch started)
  if (st.epoch > epochs)
    bad("epochs", "the saved run has started epoch " + std::to_string(st.epoch) + ", this one has " +
                      std::to_string(epochs) + " epochs");
  if (st.next < 0 || st.next > n || (st.epoch == 0 && st.next != 0))
    bad("next", "row " + std::to_string(st.next) + " of epoch " + std::to_string(st.epoch) + " is not a position in " +
                    std::to_string(n) + " rows");
  if (st.next != n && st.next % batch_size != 0)
    bad("next", "row " + std::to_string(st.next) + " does not start a batch of " + std::to_string(batch_size));
  // At most one report per epoch done (dist's checkpoints keep none).
  const std::int64_t done = std::max<std::int64_t>(st.next >= n ? st.epoch : st.epoch - 1, 0);
  if (static_cast<std::int64_t>(st.history.size()) > done)
    bad("history", std::to_string(st.history.size()) + " epoch reports for " + std::to_string(done) + " epochs done");
  if (st.partial.count < 0 || st.partial.count > st.next)
    bad("partial", "the epoch's sums count " + std::to_string(st.partial.count) + " rows, " + std::to_string(st.next) +
                       " are done");
}

}  // namespace

Metrics detail::to_metrics(const LinearModel& model, const BatchStats& st) {
  Metrics m;
  m.samples = st.count;
  if (st.count == 0) return m;
  const auto n = static_cast<double>(st.count);
  m.loss = st.loss_sum / n;
  if (model.task() == LinearTask::squared) m.mse = st.squared_error_sum / n;
  else m.accuracy = static_cast<double>(st.correct) / n;
  return m;
}

void detail::add(BatchStats& into, const BatchStats& s) {
  into.loss_sum += s.loss_sum;
  into.correct += s.correct;
  into.squared_error_sum += s.squared_error_sum;
  into.count += s.count;
}

FitResult fit(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& data,
              const FitOptions& options, const run::Callbacks& callbacks, const FitCheckpoints& checkpoints) {
  options.validate();
  check_data(model, data);
  data::check_weights(data.weights, data.size(), std::string(data.name));
  // Class weights: folded into one weight per row, which the gradient reads.
  std::vector<float> weights;
  data::SparseDataView train = data;
  if (!options.class_weights.empty()) {
    if (model.task() == LinearTask::squared)
      throw UsageError("class weights apply to classification, the model is a regression", {"", 0, "class_weight"});
    if (data.is_multilabel())
      throw UsageError("class weights weigh a row by its one class; multilabel rows have several (give row weights)",
                       {"", 0, "class_weight"});
    if (static_cast<std::int64_t>(options.class_weights.size()) != model.classes())
      throw UsageError(std::to_string(options.class_weights.size()) + " class weights for a model of " +
                           std::to_string(model.classes()) + " classes",
                       {"", 0, "class_weight"});
    weights = row_weights(data, options.class_weights);
    train.weights = weights;
  }
  if (options.workers > 1) {
    if (checkpoints.save || checkpoints.resume != nullptr)
      throw UsageError("fit: checkpoints need workers = 1 (parameter mixing keeps no mid-run state yet)",
                       {"", 0, "workers"});
    return detail::fit_workers(model, optimizer, train, options, callbacks);
  }
  if (checkpoints.every < 0)
    throw UsageError("fit: the checkpoint interval must be >= 0 batches, got " + std::to_string(checkpoints.every),
                     {"", 0, "checkpoint_every"});
  const std::int64_t n = train.size(), bs = options.batch_size;
  const run::CheckpointSchedule schedule(checkpoints.every, run::batches_for(n, bs));
  FitState st;
  if (checkpoints.resume != nullptr) {
    check_resume(*checkpoints.resume, n, bs, options.epochs);
    st = *checkpoints.resume;
  }
  optimizer.bind(model);
  const auto t0 = std::chrono::steady_clock::now();
  const double before = st.seconds;
  auto elapsed = [&] { return before + seconds_since(t0); };
  EpochOrder order(n, options.seed, options.shuffle);
  for (std::int64_t e = 0; e < st.epoch; ++e) order.next_epoch();
  // The batches run on detail::FitThreads (FitOptions::threads): on several threads a run of them at a
  // time, kRunRows rows or fewer where the epoch ends or a checkpoint is due (the threads meet after
  // each batch; a run is one parallel region); on one thread a batch at a time.
  const std::int64_t threads = detail::fit_threads(model, options);
  detail::FitThreads loop(model, optimizer, train, threads, bs);
  constexpr std::int64_t kRunRows = 4096;
  const std::int64_t run_batches = threads > 1 ? std::max<std::int64_t>(1, kRunRows / bs) : 1;
  auto save = [&] {
    st.seconds = elapsed();
    checkpoints.save(st);
  };
  std::vector<BatchStats> run_stats;
  FitResult result;

  callbacks.train_begin(options.epochs, schedule.batches_per_epoch());
  const bool batch_reports = callbacks.hears_batches();  // else no clock read per batch
  while (true) {
    if (st.epoch == 0 || st.next >= n) {
      if (st.epoch >= options.epochs) break;
      order.next_epoch();
      ++st.epoch;
      st.next = 0;
      st.partial = {};
    }
    if (n > 0) {
      const std::int64_t b = st.next, done = run::batches_for(b, bs);
      std::int64_t count = std::min(run_batches, run::batches_for(n - b, bs));
      if (checkpoints.save && schedule.every() > 0) count = std::min(count, schedule.batches_to_next(st.epoch, done));
      loop.train(order.rows(), b, b + count * bs, run_stats);
      for (const BatchStats& bst : run_stats) {
        add(st.partial, bst);
        st.next += bst.count;
        if (batch_reports)
          callbacks.batch_end({st.epoch, options.epochs, run::batches_for(st.next, bs), schedule.batches_per_epoch(),
                               bst.count > 0 ? bst.loss_sum / static_cast<double>(bst.count) : 0.0, elapsed(), bst.count,
                               bst.correct, bst.loss_sum, bst.squared_error_sum});
      }
    }
    const bool epoch_end = st.next >= n;
    bool stop = false;
    if (epoch_end) {
      EpochReport report;
      report.epoch = st.epoch;
      report.epochs = options.epochs;
      report.train = to_metrics(model, st.partial);
      report.steps = optimizer.steps();
      report.seconds = elapsed();
      report.epoch_seconds = report.seconds - (st.history.empty() ? 0.0 : st.history.back().seconds);
      st.history.push_back(report);
      if (!callbacks.empty()) {
        if (options.sync) optimizer.sync(model);
        stop = callbacks.epoch_end(report);
        result.stopped_early = stop && st.epoch < options.epochs;
      }
    }
    if (stop || (epoch_end && st.epoch >= options.epochs)) break;  // saved below, after the last sync
    const bool due = schedule.after_batch(st.epoch, run::batches_for(st.next, bs)) || (epoch_end && schedule.at_epoch_end());
    if (checkpoints.save && due) save();
  }
  if (options.sync) optimizer.sync(model);
  if (checkpoints.save) save();
  callbacks.train_end();
  result.history = st.history;
  result.steps = optimizer.steps();
  result.seconds = elapsed();
  result.threads = threads;
  return result;
}

Metrics evaluate(const LinearModel& model, const data::SparseDataView& d) {
  check_data(model, d);
  BatchStats st;
  std::vector<float> z(sz(model.outputs())), dz(sz(model.outputs()));
  for (std::int64_t r = 0; r < d.size(); ++r) {
    model.scores(d.features, r, z);
    add_row_loss(model.task(), d, r, z, dz, st);
  }
  st.count = d.size();
  return to_metrics(model, st);
}

Tensor decision_function(const LinearModel& model, const data::CsrView& x) {
  if (x.cols > model.dim())
    throw UsageError("data have " + std::to_string(x.cols) + " feature columns, the model's dim is " +
                         std::to_string(model.dim()),
                     {"", 0, "dim"});
  Tensor out({x.rows, model.outputs()});
  for (std::int64_t r = 0; r < x.rows; ++r)
    model.scores(x, r, std::span<float>(out.data() + r * model.outputs(), sz(model.outputs())));
  return out;
}

std::vector<std::int32_t> predict(const LinearModel& model, const data::CsrView& x) {
  if (model.task() == LinearTask::squared)
    throw UsageError("predict: a regression model has no classes; use decision_function", {"", 0, "task"});
  if (model.calibrator() != nullptr) {  // the most probable class after calibration (first on ties)
    const Tensor p = predict_proba(model, x);
    const std::int64_t c = model.classes();
    std::vector<std::int32_t> out(sz(x.rows));
    for (std::int64_t r = 0; r < x.rows; ++r)
      out[sz(r)] = static_cast<std::int32_t>(std::max_element(p.data() + r * c, p.data() + (r + 1) * c) - (p.data() + r * c));
    return out;
  }
  const Tensor z = decision_function(model, x);
  const std::int64_t k = model.outputs();
  std::vector<std::int32_t> out(sz(x.rows));
  for (std::int64_t r = 0; r < x.rows; ++r) out[sz(r)] = predicted_class({z.data() + r * k, sz(k)});
  return out;
}

Tensor predict_proba(const LinearModel& model, const data::CsrView& x) {
  if (model.calibrator() == nullptr) return uncalibrated_proba(model, x);
  return model.calibrator()->probabilities(decision_function(model, x));
}

Tensor uncalibrated_proba(const LinearModel& model, const data::CsrView& x) {
  if (model.task() == LinearTask::squared)
    throw UsageError("predict_proba: a regression model has no classes; use decision_function", {"", 0, "task"});
  const Tensor z = decision_function(model, x);
  const std::int64_t k = model.outputs(), c = model.classes();
  Tensor out({x.rows, c});
  for (std::int64_t r = 0; r < x.rows; ++r) {
    const float* zr = z.data() + r * k;
    float* p = out.data() + r * c;
    if (k == 1) {  // logistic, a two-class squared hinge
      const double zz = zr[0];
      const double p1 = sigmoid(zz);
      p[0] = static_cast<float>(1.0 - p1);
      p[1] = static_cast<float>(p1);
    } else if (model.task() != LinearTask::softmax) {  // ova; a squared hinge's one-vs-rest margins
      for (std::int64_t i = 0; i < k; ++i) p[i] = static_cast<float>(sigmoid(static_cast<double>(zr[i])));
    } else {
      const auto s = shifted_exp_sum<double>({zr, static_cast<std::size_t>(k)});
      for (std::int64_t i = 0; i < k; ++i) p[i] = static_cast<float>(s.softmax(zr[i]));
    }
  }
  return out;
}

}  // namespace adakit::linear
