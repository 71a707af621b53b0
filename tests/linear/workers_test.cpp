// linear::fit with FitOptions::workers > 1 (parameter mixing, src/linear/fit_workers.cpp): each worker
// runs fit()'s own loop on its shard (a feature only one worker saw ends exactly as that worker's
// serial run leaves it), a shared feature takes the mean of the workers' rows, written out here by
// hand, the
// result does not depend on the thread count, and bad settings name the field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;
using linear_test::weights_and_bias;

struct ThreadCount {  // restores the default thread count
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(0); }
};

TEST(Workers, ResultDoesNotDependOnTheThreadCount) {
  const auto d = make_dataset(Spec{.dim = 5000, .informative = 50, .classes = 3}, 600, 1);
  auto run = [&](int threads, std::int64_t workers) {
    ThreadCount tc(threads);
    LinearModel m = LinearModel::for_dataset(d);
    auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}, {"initial_accumulator_value", "0.1"}});
    const auto r = fit(m, *opt, d, {.epochs = 3, .batch_size = 2, .seed = 3, .workers = workers});
    EXPECT_EQ(r.steps, 3 * (2 * 100 + 2 * 50)) << "batches of 2 over shards of 200 (3 workers) or 300 (2)";
    return weights_and_bias(m);
  };
  const auto two = run(2, 2);
  EXPECT_EQ(run(1, 2), two);
  const auto three = run(2, 3);
  EXPECT_EQ(run(1, 3), three);
  EXPECT_NE(two, three);  // the worker count is part of the result
}

// Rows 0..n/2-1 use features 0..9 only, the rest 10..19 only: with no bias and no shuffle, each worker
// sees its own features, so the mixed model is the two serial runs side by side, bit for bit.
TEST(Workers, FeaturesOfOneWorkerKeepThatWorkersRun) {
  data::SparseDataset d;
  d.name = "halves";
  d.class_names = {"a", "b"};
  d.features.cols = 20;
  Rng rng(5);
  for (std::int64_t r = 0; r < 40; ++r) {
    const std::int32_t base = r < 20 ? 0 : 10;
    for (std::int32_t j = 0; j < 10; j += 1 + static_cast<std::int32_t>(rng.below(3))) {
      d.features.indices.push_back(base + j);
      d.features.values.push_back(static_cast<float>(rng.normal()));
    }
    d.features.indptr.push_back(static_cast<std::int64_t>(d.features.indices.size()));
    ++d.features.rows;
    d.labels.push_back(static_cast<std::int32_t>(rng.below(2)));
  }
  const FitOptions o{.epochs = 1, .batch_size = 1, .shuffle = false};
  auto train = [&](const data::SparseDataset& data, std::int64_t workers) {
    LinearModel m(LinearTask::logistic, 20, 2, /*fit_bias=*/false);
    auto opt = make_linear_optimizer("adagrad", {{"lr", "0.3"}});
    FitOptions w = o;
    w.workers = workers;
    fit(m, *opt, data, w);
    return m;
  };
  std::vector<std::int64_t> first(20), second(20);
  for (std::int64_t r = 0; r < 20; ++r) {
    first[static_cast<std::size_t>(r)] = r;
    second[static_cast<std::size_t>(r)] = 20 + r;
  }
  const LinearModel mixed = train(d, 2), a = train(d.subset(first), 1), b = train(d.subset(second), 1);
  for (std::int64_t j = 0; j < 10; ++j) EXPECT_EQ(mixed.weight_row(j)[0], a.weight_row(j)[0]) << j;
  for (std::int64_t j = 10; j < 20; ++j) EXPECT_EQ(mixed.weight_row(j)[0], b.weight_row(j)[0]) << j;
}

// Two rows of one feature, one per worker: w = (w_a + w_b) / 2 and s = (s_a + s_b) / 2, from the two
// one-row runs.
TEST(Workers, SharedFeatureIsTheMeanOfTheWorkers) {
  data::SparseDataset d;
  d.name = "two";
  d.class_names = {"a", "b"};
  d.features.cols = 1;
  d.features.indices = {0, 0};
  d.features.values = {1.5f, -0.5f};
  d.features.indptr = {0, 1, 2};
  d.features.rows = 2;
  d.labels = {1, 1};
  const double s0 = 0.25;
  auto one_row = [&](std::int64_t r, LinearModel& m) {
    LazyAdagrad opt({.lr = 0.7, .initial_accumulator_value = s0});
    const std::vector<std::int64_t> rows = {r};
    fit(m, opt, d.subset(rows), {.epochs = 1, .batch_size = 1, .shuffle = false});
    return opt.sum(m)[0];
  };
  LinearModel m0(LinearTask::logistic, 1, 2, false), m1(LinearTask::logistic, 1, 2, false);
  const double s_a = one_row(0, m0), s_b = one_row(1, m1);
  const double w_a = m0.weight_row(0)[0], w_b = m1.weight_row(0)[0];
  const double d_a = s_a - s0, d_b = s_b - s0;
  LinearModel mixed(LinearTask::logistic, 1, 2, false);
  LazyAdagrad opt({.lr = 0.7, .initial_accumulator_value = s0});
  fit(mixed, opt, d, {.epochs = 1, .batch_size = 1, .shuffle = false, .workers = 2});
  EXPECT_EQ(mixed.weight_row(0)[0], static_cast<float>((w_a + w_b) * 0.5));
  EXPECT_EQ(opt.sum(mixed)[0], static_cast<float>((s_a + s_b) * 0.5));
  EXPECT_GT(d_a, 0.0);
  EXPECT_GT(d_b, 0.0);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Workers, LearnsTheTaskAndReportsEveryEpoch) {
  const Spec s{};
  const auto train = make_dataset(s, 2000, 1), test = make_dataset(s, 1000, 2);
  LinearModel m = LinearModel::for_dataset(train);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  std::int64_t epochs_heard = 0;
  const auto r = fit(m, *opt, train, {.epochs = 5, .batch_size = 1, .seed = 1, .workers = 2},
                     [&](const EpochReport& e) {
                       ++epochs_heard;
                       EXPECT_EQ(e.train.samples, 2000);
                       return false;
                     });
  EXPECT_EQ(epochs_heard, 5);
  EXPECT_EQ(r.history.size(), 5u);
  EXPECT_GE(evaluate(m, test).accuracy, 0.9);
}

TEST(Workers, BadSettingsNameTheField) {
  const auto d = make_dataset(Spec{.dim = 100, .informative = 10}, 20, 3);
  auto field_of = [&](const std::string& optimizer, std::int64_t workers, bool checkpoint) -> std::string {
    LinearModel m = LinearModel::for_dataset(d);
    auto opt = make_linear_optimizer(optimizer, {});
    FitCheckpoints c;
    if (checkpoint) c.save = [](const FitState&) {};
    try {
      fit(m, *opt, d, {.workers = workers}, {}, c);
    } catch (const UsageError& e) {
      return e.context().field;
    }
    return "(no error)";
  };
  EXPECT_EQ(field_of("adagrad", 0, false), "workers");
  EXPECT_EQ(field_of("adagrad", 17, false), "workers");
  EXPECT_EQ(field_of("ftrl", 2, false), "workers");
  EXPECT_EQ(field_of("adagrad-l1", 2, false), "workers");
  EXPECT_EQ(field_of("adagrad", 2, true), "workers");
  EXPECT_EQ(field_of("adagrad", 2, false), "(no error)");
}

}  // namespace
