// linear::predictions: what `adakit predict` reports for a sparse linear model, checked against
// predict / predict_proba / decision_function and hand-computed accuracy and mse.
#include <gtest/gtest.h>

#include "adakit/linear/fit.hpp"

namespace {
using namespace adakit;

data::SparseDataset rows3() {
  data::SparseDataset d;
  d.features.cols = 2;
  const std::vector<std::vector<float>> x = {{1.0f, 0.0f}, {0.0f, 1.0f}, {2.0f, 1.0f}};
  for (const auto& r : x) d.features.add_row(std::vector<std::int32_t>{0, 1}, r);
  return d;
}

TEST(LinearPredictions, LogisticClassesProbabilitiesAndAccuracy) {
  linear::LinearModel model(linear::LinearTask::logistic, 2);
  model.weights()[0] = 1.0f;  // z = x0 - x1 (one output: element i is feature i)
  model.weights()[1] = -1.0f;
  model.set_class_names({"neg", "pos"});
  data::SparseDataset d = rows3();
  d.labels = {1, 1, 1};
  const auto p = linear::predictions(model, d, true);
  EXPECT_EQ(p.classes, (std::vector<std::int32_t>{1, 0, 1}));
  EXPECT_EQ(p.class_names, (std::vector<std::string>{"neg", "pos"}));
  const Tensor probs = linear::predict_proba(model, d.features);
  ASSERT_EQ(p.probabilities.size(), 6u);
  for (std::int64_t i = 0; i < 6; ++i) EXPECT_EQ(p.probabilities[static_cast<std::size_t>(i)], probs[i]);
  ASSERT_TRUE(p.accuracy.has_value());
  EXPECT_DOUBLE_EQ(*p.accuracy, 2.0 / 3.0);
  d.labels = {1};  // not one label per row: no accuracy
  EXPECT_FALSE(linear::predictions(model, d, false).accuracy.has_value());
  EXPECT_TRUE(linear::predictions(model, d, false).probabilities.empty());
}

TEST(LinearPredictions, RegressionOnePredictionPerRowAndMse) {
  linear::LinearModel model(linear::LinearTask::squared, 2, 1);
  model.weights()[0] = 2.0f;  // z = 2 x0 + 0.5
  model.bias()[0] = 0.5f;
  data::SparseDataset d = rows3();
  d.targets = {2.5f, 0.0f, 4.0f};  // errors 0, 0.5, 0.5
  const auto p = linear::predictions(model, d, true);
  EXPECT_TRUE(p.classes.empty());
  ASSERT_EQ(p.outputs.shape(), (Shape{3}));
  EXPECT_EQ(p.outputs[0], 2.5f);
  EXPECT_EQ(p.outputs[1], 0.5f);
  EXPECT_EQ(p.outputs[2], 4.5f);
  ASSERT_TRUE(p.mse.has_value());
  EXPECT_DOUBLE_EQ(*p.mse, 0.5 / 3.0);
}

}  // namespace
