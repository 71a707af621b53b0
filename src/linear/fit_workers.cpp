// linear::fit with FitOptions::workers > 1: iterative parameter mixing (see FitOptions::workers).
//
// Per epoch: the seeded order of fit() is cut into `workers` contiguous shards; worker k trains model
// copy k on shard k with fit()'s own batch loop (detail::FitThreads on one thread: the same
// gradient and step kernels), all copies starting from the same state. Then, for each feature the epoch touched:
//   one worker k saw it:  every copy takes worker k's row (weights and sums) as it is;
//   several saw it:       every copy takes the mean of the W copies' rows, coordinate by coordinate
//                         (weights and sums of squared gradients alike; a copy whose worker did not
//                         see the feature still holds the epoch's start), in double, workers in order.
// Measured on bench/compare_text.py's debian-long task (5 epochs, 2 workers; one learner: 0.8427):
// this mean 0.8367; the sums' growths added instead of averaged (s0 + Σ_k (s_k − s0)) 0.8365; each
// worker's weight weighted by its sum's growth (Vowpal Wabbit's weighted averaging) 0.8330; changes
// scaled by AdaGrad's √(s_k / s) 0.8240; the changes added (w0 + Σ_k (w_k − w0)) 0.8078.
// The bias and its sums are averaged the same way, and the step counters add up. A feature no worker
// touched is left alone, so an epoch costs O(its nonzeros · outputs) plus O(touched features · row).
// Everything a worker does is sequential over its shard and the mixing is per coordinate in a fixed
// order: the result depends on the worker count, never on how many threads run the workers.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/schedule.hpp"
#include "fit_internal.hpp"

namespace adakit::linear {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

float* row_of(LinearModel& m, std::int64_t feature) { return m.table().data() + feature * m.row_stride(); }

}  // namespace

FitResult detail::fit_workers(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
                              const FitOptions& options, const run::Callbacks& callbacks) {
  optimizer.bind(model);
  const std::int64_t workers = options.workers, outputs = model.outputs(), stride = model.row_stride();
  const std::int64_t sum_at = optimizer.mixing_sum_offset(outputs);
  if (sum_at < 0)
    throw UsageError("fit: workers > 1 mixes the workers' models by their sums of squared gradients; optimizer '" +
                         std::string(optimizer.name()) + "' keeps none (use adagrad, or one worker)",
                     {"", 0, "workers"});
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  // Worker 0 trains `model` itself; workers 1.. train copies, with optimizers of the same options and state.
  std::vector<LinearModel> copies;
  std::vector<std::unique_ptr<LinearOptimizer>> owned;
  std::vector<LinearModel*> models = {&model};
  std::vector<LinearOptimizer*> opts = {&optimizer};
  {
    const LinearOptimizerState state = optimizer.state(model);
    copies.reserve(sz(workers - 1));
    for (std::int64_t k = 1; k < workers; ++k) {
      copies.push_back(model);
      owned.push_back(make_linear_optimizer(optimizer.name(), optimizer.option_map()));
      owned.back()->load_state(copies.back(), state);
    }
    for (std::int64_t k = 1; k < workers; ++k) {
      models.push_back(&copies[sz(k - 1)]);
      opts.push_back(owned[sz(k - 1)].get());
    }
  }
  std::vector<std::unique_ptr<FitThreads>> loops;  // each worker's batch loop, on its one thread
  for (std::int64_t k = 0; k < workers; ++k)
    loops.push_back(std::make_unique<FitThreads>(*models[sz(k)], *opts[sz(k)], train, 1, options.batch_size));

  const std::int64_t n = train.size(), dim = model.dim(), bs = options.batch_size;
  auto shard = [&](std::span<const std::int64_t> order, std::int64_t k) {
    const std::int64_t b = k * n / workers, e = (k + 1) * n / workers;
    return order.subspan(sz(b), sz(e - b));
  };
  std::int64_t batches_per_epoch = 0;
  for (std::int64_t k = 0; k < workers; ++k) batches_per_epoch += run::batches_for((k + 1) * n / workers - k * n / workers, bs);

  std::vector<std::uint16_t> mask(sz(dim), 0);  // bit k: worker k's shard has the feature this epoch
  std::vector<std::int64_t> touched;            // the features of the epoch, in first-seen order
  std::vector<BatchStats> stats(sz(workers));
  std::vector<std::vector<BatchStats>> batch_stats(sz(workers));
  std::vector<std::exception_ptr> errors(sz(workers));
  const int threads = static_cast<int>(std::min<std::int64_t>(workers, std::max(1, num_threads())));

  EpochOrder order(n, options.seed, options.shuffle);
  FitResult result;
  callbacks.train_begin(options.epochs, batches_per_epoch);
  for (std::int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    order.next_epoch();
    const auto rows = order.rows();
    // Which workers see which features (ids outside the model are left to BatchFeatures::build to report).
    touched.clear();
    for (std::int64_t k = 0; k < workers; ++k)
      for (const std::int64_t r : shard(rows, k))
        for (const std::int32_t j : train.features.row_indices(r)) {
          if (j < 0 || j >= dim) continue;
          std::uint16_t& m = mask[sz(j)];
          if (m == 0) touched.push_back(j);
          m = static_cast<std::uint16_t>(m | (1u << k));
        }
    const std::int64_t steps0 = optimizer.steps(), touched0 = optimizer.coordinates_touched();

    // The workers, `threads` at a time: thread t runs workers t, t + threads, ...
    auto run = [&](std::int64_t t) {
      for (std::int64_t k = t; k < workers; k += threads) {
        try {
          const auto part = shard(rows, k);
          loops[sz(k)]->train(part, 0, static_cast<std::int64_t>(part.size()), batch_stats[sz(k)]);
          stats[sz(k)] = {};
          for (const BatchStats& b : batch_stats[sz(k)]) add(stats[sz(k)], b);
        } catch (...) {
          errors[sz(k)] = std::current_exception();
        }
      }
    };
    {
      std::vector<std::jthread> pool;
      for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
      run(0);
    }
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);

    // Mix: a feature of one worker, its row copied to the others; of several, the mean of the copies.
    const double inv = 1.0 / static_cast<double>(workers);
    auto mean = [inv](std::span<float* const> r, std::int64_t from, std::int64_t count, std::vector<double>& acc) {
      acc.assign(sz(count), 0.0);
      for (const float* rk : r)
        for (std::int64_t x = 0; x < count; ++x) acc[sz(x)] += static_cast<double>(rk[from + x]);
      for (float* rk : r)
        for (std::int64_t x = 0; x < count; ++x) rk[from + x] = static_cast<float>(acc[sz(x)] * inv);
    };
    parallel_for(static_cast<std::int64_t>(touched.size()), 512, [&](std::int64_t b, std::int64_t e) {
      std::vector<float*> r(sz(workers));
      std::vector<double> acc;
      for (std::int64_t i = b; i < e; ++i) {
        const std::int64_t j = touched[sz(i)];
        const unsigned m = mask[sz(j)];
        mask[sz(j)] = 0;
        for (std::int64_t k = 0; k < workers; ++k) r[sz(k)] = row_of(*models[sz(k)], j);
        if (std::popcount(m) == 1) {
          const float* src = r[sz(std::countr_zero(m))];
          for (float* rk : r)
            if (rk != src) std::memcpy(rk, src, sz(stride) * sizeof(float));
        } else {
          mean(r, 0, outputs, acc);
          mean(r, sum_at, outputs, acc);
        }
      }
    });
    // The bias and its sums: every worker's batches step them.
    if (model.fit_bias() && static_cast<std::int64_t>(optimizer.mixing_bias_sum().size()) == outputs) {
      std::vector<float*> w(sz(workers)), s(sz(workers));
      for (std::int64_t k = 0; k < workers; ++k) {
        w[sz(k)] = models[sz(k)]->bias().data();
        s[sz(k)] = opts[sz(k)]->mixing_bias_sum().data();
      }
      std::vector<double> acc;
      mean(w, 0, outputs, acc);
      mean(s, 0, outputs, acc);
    }
    std::int64_t steps = steps0, coords = touched0;
    BatchStats sum;
    for (std::int64_t k = 0; k < workers; ++k) {
      steps += opts[sz(k)]->steps() - steps0;
      coords += opts[sz(k)]->coordinates_touched() - touched0;
      add(sum, stats[sz(k)]);
    }
    for (LinearOptimizer* o : opts) o->set_counters(steps, coords);

    EpochReport report;
    report.epoch = epoch;
    report.epochs = options.epochs;
    report.train = to_metrics(model, sum);
    report.steps = steps;
    report.seconds = elapsed();
    report.epoch_seconds = report.seconds - (result.history.empty() ? 0.0 : result.history.back().seconds);
    result.history.push_back(report);
    if (!callbacks.empty()) {
      if (options.sync) optimizer.sync(model);
      if (callbacks.epoch_end(report)) {
        result.stopped_early = epoch < options.epochs;
        break;
      }
    }
  }
  if (options.sync) optimizer.sync(model);
  callbacks.train_end();
  result.steps = optimizer.steps();
  result.seconds = elapsed();
  return result;
}

}  // namespace adakit::linear
