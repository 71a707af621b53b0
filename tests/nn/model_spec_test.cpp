// nn::build_model: the model spec grammar of adakit train --model, its shapes and parameter counts,
// and its errors naming the field.
#include <gtest/gtest.h>

#include <string>

#include "adakit/core/error.hpp"
#include "adakit/nn/models.hpp"

namespace {
using namespace adakit;

// n samples of `shape` with `classes` classes (0: regression with one target per sample).
data::Dataset dataset(Shape shape, std::int64_t classes, std::int64_t n = 6) {
  data::Dataset d;
  Shape full{n};
  full.insert(full.end(), shape.begin(), shape.end());
  d.features = Tensor(full, 0.5f);
  if (classes == 0) {
    d.targets = Tensor({n}, 1.0f);
    return d;
  }
  for (std::int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::int32_t>(i % classes));
  for (std::int64_t c = 0; c < classes; ++c) d.class_names.push_back("c" + std::to_string(c));
  return d;
}

// The UsageError that build_model throws, or a failure.
UsageError error_of(const std::string& spec, const data::Dataset& d, nn::ModelOptions o = {}) {
  try {
    nn::build_model(spec, d, o);
  } catch (const UsageError& e) {
    return e;
  }
  ADD_FAILURE() << spec << " built";
  return UsageError("none");
}

TEST(BuildModel, MlpShapesAndParameterCount) {
  const auto d = dataset({4}, 3);
  auto m = nn::build_model("mlp:8,4", d, {.seed = 1});
  // 4*8+8 + 8*4+4 + 4*3+3
  EXPECT_EQ(m.num_parameters(), 40 + 36 + 15);
  EXPECT_EQ(m.output_shape({4}), (Shape{3}));
  EXPECT_EQ(m.size(), 5u);  // linear relu linear relu linear
}

TEST(BuildModel, SameSeedSameWeightsAsMlp) {
  const auto d = dataset({4}, 3);
  auto a = nn::build_model("mlp:8", d, {.activation = "tanh", .seed = 7});
  auto b = nn::mlp(4, {8}, 3, "tanh", "", 7);
  ASSERT_EQ(a.parameters().size(), b.parameters().size());
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    const auto& x = a.parameters()[i]->value();
    const auto& y = b.parameters()[i]->value();
    ASSERT_EQ(x.numel(), y.numel());
    for (std::int64_t k = 0; k < x.numel(); ++k) ASSERT_EQ(x[k], y[k]);
  }
}

TEST(BuildModel, OutputsFollowTheTask) {
  EXPECT_EQ(nn::build_model("logreg", dataset({5}, 2)).output_shape({5}), (Shape{1}));    // binary: one logit
  EXPECT_EQ(nn::build_model("softmax", dataset({5}, 2)).output_shape({5}), (Shape{2}));   // one per class
  EXPECT_EQ(nn::build_model("logreg", dataset({5}, 4)).output_shape({5}), (Shape{4}));
  EXPECT_EQ(nn::build_model("linreg", dataset({5}, 0)).output_shape({5}), (Shape{1}));
  EXPECT_EQ(nn::build_model("linreg", dataset({5}, 0)).num_parameters(), 6);
}

TEST(BuildModel, FlatModelsOnImagesTakeFlatSamples) {
  const auto d = dataset({1, 8, 8}, 10);
  auto m = nn::build_model("mlp:16", d);
  EXPECT_EQ(m.num_parameters(), 64 * 16 + 16 + 16 * 10 + 10);
  EXPECT_EQ(nn::model_input_shape("mlp:16", d.sample_shape()), (Shape{64}));
  EXPECT_EQ(nn::model_input_shape("cnn", d.sample_shape()), (Shape{1, 8, 8}));
}

TEST(BuildModel, Cnn) {
  const auto d = dataset({1, 8, 8}, 10);
  // digits_cnn for 8x8: conv 1->16 (3x3) + linear 16*4*4 -> 10
  EXPECT_EQ(nn::build_model("cnn", d).num_parameters(), (9 * 16 + 16) + (256 * 10 + 10));
  // conv 1->4, then linear 4*4*4 -> 8, linear 8 -> 10
  EXPECT_EQ(nn::build_model("cnn:4/8", d).num_parameters(), (9 * 4 + 4) + (64 * 8 + 8) + (8 * 10 + 10));
  EXPECT_EQ(nn::build_model("cnn:4/8", d).output_shape({1, 8, 8}), (Shape{10}));
}

TEST(BuildModel, ErrorsNameTheField) {
  const auto iris = dataset({4}, 3);
  auto e = error_of("mlp", iris);
  EXPECT_EQ(e.context().field, "model");
  EXPECT_STREQ(e.message().c_str(), "mlp needs hidden sizes, e.g. mlp:64 or mlp:256,128");
  e = error_of("mlp:8,0", iris);
  EXPECT_EQ(e.context().field, "model");
  EXPECT_EQ(e.message(), "'0' is not a positive integer");
  e = error_of("tree", iris);
  EXPECT_EQ(e.context().field, "model");
  EXPECT_EQ(e.message(), "unknown model 'tree' (mlp:H[,H...], logreg, softmax, linreg, cnn, cnn:C[,C...][/H])");
  e = error_of("cnn", iris);
  EXPECT_EQ(e.message(), "cnn needs image data ([C, H, W] samples); this data has samples of shape [4]");
  e = error_of("linreg", iris);
  EXPECT_EQ(e.message(), "linreg is for regression targets; use logreg or softmax");
  e = error_of("softmax", dataset({4}, 0));
  EXPECT_EQ(e.message(), "softmax is for classification; use linreg");
  e = error_of("logreg", iris, {.dropout = 0.5});
  EXPECT_EQ(e.context().field, "dropout");
  EXPECT_EQ(e.message(), "--dropout applies to mlp models");
}

}  // namespace
