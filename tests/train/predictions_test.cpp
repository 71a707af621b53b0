// train::predictions: what `adakit predict` reports for an nn model, checked against the model's own
// outputs (classes, softmax / sigmoid probabilities, accuracy, regression outputs).
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/adakit.hpp"
#include "adakit/core/logistic.hpp"

namespace {
using namespace adakit;

data::Dataset tiny(std::int64_t n, std::int64_t features) {
  data::Dataset d;
  d.name = "tiny";
  d.features = Tensor({n, features});
  Rng rng(3);
  rng.fill_normal(d.features.span(), 0.0, 1.0);
  return d;
}

TEST(TrainPredictions, BinaryProbabilitiesAreTheSigmoidOfTheLogitInDouble) {
  data::Dataset d = tiny(9, 3);
  for (std::int32_t i = 0; i < 9; ++i) d.labels.push_back(i % 2);
  d.class_names = {"no", "yes"};
  auto model = nn::mlp(3, {4}, 1, "tanh", "", 5);
  const Tensor out = train::predict_outputs(model, d);
  const auto p = train::predictions(model, d, train::Objective::binary_logistic, {"no"}, true);
  ASSERT_EQ(p.rows, 9);
  ASSERT_EQ(p.classes.size(), 9u);
  ASSERT_EQ(p.probabilities.size(), 18u);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < 9; ++i) {
    const auto u = static_cast<std::size_t>(i);
    EXPECT_EQ(p.classes[u], out[i] > 0.0f ? 1 : 0);
    const double p1 = 1.0 / (1.0 + std::exp(-static_cast<double>(out[i])));  // bit for bit, as before
    EXPECT_EQ(p.probabilities[2 * u + 1], p1);
    EXPECT_EQ(p.probabilities[2 * u], 1.0 - p1);
    correct += p.classes[u] == d.labels[u];
  }
  ASSERT_TRUE(p.accuracy.has_value());
  EXPECT_DOUBLE_EQ(*p.accuracy, static_cast<double>(correct) / 9.0);
  EXPECT_FALSE(p.mse.has_value());
  EXPECT_EQ(p.class_names, (std::vector<std::string>{"no"}));
  // Without --probabilities none are computed; without labels no accuracy.
  d.labels.clear();
  const auto q = train::predictions(model, d, train::Objective::binary_logistic, {}, false);
  EXPECT_TRUE(q.probabilities.empty());
  EXPECT_FALSE(q.accuracy.has_value());
}

TEST(TrainPredictions, SoftmaxProbabilitiesSumToOneAndPickTheClass) {
  data::Dataset d = tiny(7, 4);
  for (std::int32_t i = 0; i < 7; ++i) d.labels.push_back(i % 3);
  auto model = nn::mlp(4, {5}, 3, "relu", "", 2);
  const auto p = train::predictions(model, d, train::Objective::softmax_ce, {"a", "b", "c"}, true);
  ASSERT_EQ(p.probabilities.size(), 21u);
  for (std::size_t i = 0; i < 7; ++i) {
    const double* r = p.probabilities.data() + 3 * i;
    EXPECT_NEAR(r[0] + r[1] + r[2], 1.0, 1e-6);
    EXPECT_EQ(p.classes[i], static_cast<std::int32_t>(std::max_element(r, r + 3) - r));
    EXPECT_EQ(static_cast<double>(static_cast<float>(r[0])), r[0]);  // float probabilities, exactly
  }
}

TEST(TrainPredictions, RegressionGivesTheOutputsPerRow) {
  data::Dataset d = tiny(5, 2);
  d.targets = Tensor({5, 2});
  auto model = nn::mlp(2, {}, 2, "relu", "", 1);
  const Tensor out = train::predict_outputs(model, d);
  const auto p = train::predictions(model, d, train::Objective::mse, {}, true);
  EXPECT_TRUE(p.classes.empty());
  EXPECT_TRUE(p.probabilities.empty());
  EXPECT_FALSE(p.accuracy.has_value());
  ASSERT_EQ(p.outputs.shape(), (Shape{5, 2}));
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ(p.outputs[i], out[i]);
}

}  // namespace
