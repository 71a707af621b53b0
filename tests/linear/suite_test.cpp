// One table-driven suite over every optimizer of the linear registry, as tests/optim/suite_test.cpp is for
// the dense one: L1 gives exact zeros and keeps the accuracy, bad options name their field, and the work
// per example does not depend on the model's dimension. Each optimizer's own reference (a transcription
// of its paper, an eager loop) stays in its file: ftrl_test, rda_test, prox_test, lazy_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;

struct BadOption {
  optim::OptionMap options;
  std::string field;  // the field the UsageError names
};

struct Row {
  std::string name;  // registry name
  // The sparsity run: 5 epochs over 2000 rows of linear_test::Spec{} (seed 1), tested on 1000 more.
  optim::OptionMap sparse_options;
  std::int64_t sparse_batch_size;
  double min_zero_fraction;  // of the features the training data contain, exactly 0 at the end
  double max_zero_fraction;
  // The cost run: a light L1 where the optimizer takes one.
  optim::OptionMap cost_options;
  std::vector<BadOption> bad;  // options the constructor refuses
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// Written out by hand, in the registry's order: CoversEveryRegistryEntry compares the registry with it.
const std::vector<Row>& rows() {
  static const std::vector<Row> r{
      // No L1: lazy AdaGrad leaves no weight of a feature it has seen at exactly 0.
      {"adagrad", {{"lr", "0.5"}}, 4, 0.0, 0.0, {}, {{{{"lr", "-1"}}, "lr"}, {{{"eps", "-1"}}, "eps"}}},
      {"adagrad-l1",
       {{"lr", "0.5"}, {"l1", "0.002"}},
       4,
       0.8,
       1.0,
       {{"l1", "0.001"}},
       {{{{"lr", "0"}}, "lr"}, {{{"l1", "-1"}}, "l1"}, {{{"l2", "nan"}}, "l2"}, {{{"eps", "0"}}, "eps"}}},
      {"adagrad-rda",
       {{"lr", "0.5"}, {"l1", "0.0005"}},
       4,
       0.8,
       1.0,
       {{"l1", "0.001"}},
       {{{{"lr", "0"}}, "lr"}, {{{"l1", "-2"}}, "l1"}, {{{"eps", "0"}}, "eps"}}},
      {"ftrl",
       {{"alpha", "0.5"}, {"l1", "2"}},
       1,
       0.8,
       1.0,
       {{"l1", "0.001"}},
       {{{{"alpha", "0"}}, "alpha"}, {{{"beta", "-1"}}, "beta"}}},
      {"sgd", {{"lr", "0.5"}, {"l1", "0.002"}}, 4, 0.8, 1.0, {{"l1", "0.001"}}, {{{{"l2", "-0.5"}}, "l2"}}},
  };
  return r;
}

TEST(LinearOptimizerSuiteTable, CoversEveryRegistryEntry) {
  std::vector<std::string> registry, table;
  for (const auto& info : linear_optimizers()) registry.emplace_back(info.name);
  for (const auto& row : rows()) table.push_back(row.name);
  EXPECT_EQ(table, (std::vector<std::string>{"adagrad", "adagrad-l1", "adagrad-rda", "ftrl", "sgd"}));
  EXPECT_EQ(registry, table);
}

class LinearOptimizerSuite : public ::testing::TestWithParam<Row> {};

// Many irrelevant rare features: a strong L1 zeroes >= 80% of the features the data contain (exact
// zeros) while the informative ones keep the accuracy.
TEST_P(LinearOptimizerSuite, L1GivesExactZerosAndKeepsAccuracy) {
  const Row& row = GetParam();
  const Spec s{};
  const auto train = make_dataset(s, 2000, 1), test = make_dataset(s, 1000, 2);
  const auto present = linear_test::present_features(train);
  LinearModel m = LinearModel::for_dataset(train);
  auto opt = make_linear_optimizer(row.name, row.sparse_options);
  fit(m, *opt, train, {.epochs = 5, .batch_size = row.sparse_batch_size, .seed = 1});
  const auto zero = std::count_if(present.begin(), present.end(), [&](std::int64_t f) { return m.weight_row(f)[0] == 0.0f; });
  const double fraction = static_cast<double>(zero) / static_cast<double>(present.size());
  EXPECT_GE(fraction, row.min_zero_fraction);
  EXPECT_LE(fraction, row.max_zero_fraction);
  EXPECT_EQ(m.count_nonzero_weights(), static_cast<std::int64_t>(present.size()) - zero);  // none outside the data
  EXPECT_GE(evaluate(m, test).accuracy, 0.9);
}

TEST_P(LinearOptimizerSuite, OptionsValidateNamingTheField) {
  const Row& row = GetParam();
  ASSERT_FALSE(row.bad.empty());
  for (const auto& bad : row.bad) {
    try {
      (void)make_linear_optimizer(row.name, bad.options);
      ADD_FAILURE() << "accepted " << bad.options.begin()->first << " = " << bad.options.begin()->second;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, bad.field);
    }
  }
  EXPECT_NO_THROW((void)make_linear_optimizer(row.name, row.sparse_options));
}

// The same data in a model of dim 2^15 and of dim 2^21: the same trajectory, the same number of
// coordinates read or written — the per-example work does not depend on dim.
TEST_P(LinearOptimizerSuite, TouchedCoordinatesDoNotDependOnTheDimension) {
  const Row& row = GetParam();
  const Spec s{.dim = 1 << 14, .informative = 64, .nnz_informative = 5, .nnz_noise = 15};
  const auto d = make_dataset(s, 400, 1);
  std::vector<std::int64_t> touched;
  std::vector<std::vector<float>> weights;
  for (const std::int64_t dim : {std::int64_t{1} << 15, std::int64_t{1} << 21}) {
    LinearModel m(LinearTask::logistic, dim);
    auto opt = make_linear_optimizer(row.name, row.cost_options);
    fit(m, *opt, d, {.epochs = 1, .batch_size = 2, .seed = 1});
    touched.push_back(opt->coordinates_touched());
    weights.emplace_back(m.weights().begin(), m.weights().begin() + s.dim);
    EXPECT_EQ(m.count_nonzero_weights(),
              std::count_if(weights.back().begin(), weights.back().end(), [](float w) { return w != 0; }));
  }
  EXPECT_EQ(touched[0], touched[1]);
  EXPECT_LE(touched[0], 2 * (d.features.nnz() + 200));  // prepare + step, + bias per step
  EXPECT_EQ(weights[0], weights[1]);
}

INSTANTIATE_TEST_SUITE_P(Linear, LinearOptimizerSuite, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& row) {
                           std::string name = row.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Lazy AdaGrad's constructor refuses weight_decay (it would touch every coordinate at every step); the
// registry does not even offer the key (tests/linear/registry_test.cpp).
TEST(LinearOptimizerSuiteTable, LazyAdagradRefusesWeightDecay) {
  try {
    LazyAdagrad({.weight_decay = 0.1});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "weight_decay");
  }
}

}  // namespace
