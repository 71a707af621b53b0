// nn Sequential and model builders: whole-model gradient checks, config round trip, parameter
// names, seeds, thread-count independence, buffer reuse, a small training run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/nn/layers.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/nn/sequential.hpp"
#include "gradcheck.hpp"

namespace {

using adakit::Error;
using adakit::Parameter;
using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;
using namespace adakit::nn;
using nn_test::GradCheck;
using nn_test::random_tensor;

struct ThreadGuard {
  ~ThreadGuard() { adakit::set_num_threads(0); }
};

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.span().begin(), a.span().end(), b.span().begin());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(GradSequential, MlpTanh) {
  Sequential model = mlp(5, {6, 4}, 3, "tanh", "", 11);
  nn_test::check_model(model, random_tensor({3, 5}, 1));
}

TEST(GradSequential, SmallCnnWithEveryImageLayer) {
  Sequential model;
  model.emplace<Conv2d>(2, 3, 3, 1, 1, true, 1);
  model.emplace<Tanh>();
  model.emplace<AvgPool2d>(2);
  model.emplace<Conv2d>(3, 4, 3, 2, 1, true, 2);
  model.emplace<Sigmoid>();
  model.emplace<Flatten>();
  model.emplace<Linear>(16, 3, true, 3);
  ASSERT_EQ(model.output_shape({2, 8, 7}), (Shape{3}));
  GradCheck o;
  o.atol = 2e-3;
  nn_test::check_model(model, random_tensor({2, 2, 8, 7}, 4), o);
}

TEST(GradSequential, EmbeddingModelSparseAndDenseGradients) {
  Sequential model;
  model.emplace<Embedding>(10, 3, 1);
  model.emplace<Flatten>();
  model.emplace<Linear>(12, 2, true, 2);
  GradCheck o;
  o.check_input = false;  // ids have no gradient
  nn_test::check_model(model, Tensor::from({3, 4}, {1, 4, 4, 9, 0, 2, 1, 7, 3, 3, 3, 8}), o);
  EXPECT_TRUE(model.parameters()[0]->has_sparse_grad());
  EXPECT_EQ(model.parameters()[0]->name(), "0.weight");
}

TEST(NnSequential, ParameterNamesFollowLayerIndex) {
  Sequential model = mlp(4, {8}, 3, "relu", "", 1);
  std::vector<std::string> names;
  for (Parameter* p : model.parameters()) names.push_back(p->name());
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(model.num_parameters(), 4 * 8 + 8 + 8 * 3 + 3);
  Sequential cnn_model = digits_cnn({1, 8, 8}, 10, 1);
  names.clear();
  for (Parameter* p : cnn_model.parameters()) names.push_back(p->name());
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias"}));
}

TEST(NnSequential, ConfigRoundTripGivesIdenticalOutputs) {
  Sequential model;
  model.emplace<Conv2d>(1, 4, 3, 1, 1, true, 5);
  model.emplace<ReLU>();
  model.emplace<MaxPool2d>(2);
  model.emplace<Dropout>(0.3, 9);
  model.emplace<Flatten>();
  model.emplace<Linear>(36, 5, true, 6, Init::xavier_uniform);
  model.emplace<Sigmoid>();
  const nlohmann::json config = model.config();
  Sequential copy = Sequential::from_config(config);
  EXPECT_EQ(copy.config(), config);
  Sequential from_text = Sequential::from_config(nlohmann::json::parse(config.dump()));
  const Tensor x = random_tensor({3, 1, 6, 6}, 8);
  // Evaluation, then two training passes (dropout masks from the same seed, advancing alike).
  for (bool training : {false, true, true}) {
    const Tensor y = model.forward(x, training);
    EXPECT_TRUE(same(y, copy.forward(x, training)));
    EXPECT_TRUE(same(y, from_text.forward(x, training)));
  }
  // A bare array of layer configs works too.
  Sequential from_array = Sequential::from_config(config.at("layers"));
  EXPECT_EQ(from_array.size(), model.size());
}

TEST(NnSequential, BadConfigNamesTheLayer) {
  nlohmann::json config = mlp(3, {4}, 2, "relu", "", 1).config();
  config["layers"][2]["out_features"] = "two";
  try {
    (void)Sequential::from_config(config);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "layers[2].out_features");
    EXPECT_TRUE(contains(e.what(), "layers[2]")) << e.what();
  }
  EXPECT_THROW((void)Sequential::from_config(nlohmann::json{{"kind", "graph"}, {"layers", nlohmann::json::array()}}),
               Error);
  EXPECT_THROW((void)Sequential::from_config(nlohmann::json(3)), Error);
}

TEST(NnSequential, SameSeedSameInit) {
  Sequential a = mlp(6, {5}, 2, "relu", "", 42), b = mlp(6, {5}, 2, "relu", "", 42), c = mlp(6, {5}, 2, "relu", "", 43);
  auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
  bool all_same_c = true;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(same(pa[i]->value(), pb[i]->value()));
    all_same_c = all_same_c && same(pa[i]->value(), pc[i]->value());
  }
  EXPECT_FALSE(all_same_c);
  // Layers differ from each other even with one seed.
  EXPECT_NE(layer_seed(1, 0), layer_seed(1, 2));
}

TEST(NnSequential, ThreadCountDoesNotChangeResults) {
  ThreadGuard guard;
  Sequential fashion = mlp(784, {256}, 10, "relu", "", 3);
  Sequential image = image_cnn({3, 16, 16}, 10, 4);
  const Tensor x1 = random_tensor({64, 784}, 1), x2 = random_tensor({8, 3, 16, 16}, 2);
  const std::vector<std::int32_t> labels1(64, 3), labels2 = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<Tensor> outputs[2], grads[2];
  for (int t : {1, 2}) {
    adakit::set_num_threads(t);
    for (Sequential* m : {&fashion, &image}) {
      const Tensor& y = m->forward(m == &fashion ? x1 : x2, true);
      outputs[t - 1].push_back(y);
      Tensor d;
      (void)softmax_cross_entropy_loss(y, m == &fashion ? labels1 : labels2, d);
      m->zero_grad();
      m->backward(d);
      for (Parameter* p : m->parameters()) grads[t - 1].push_back(p->grad());
    }
  }
  for (std::size_t i = 0; i < outputs[0].size(); ++i) EXPECT_TRUE(same(outputs[0][i], outputs[1][i])) << i;
  for (std::size_t i = 0; i < grads[0].size(); ++i) EXPECT_TRUE(same(grads[0][i], grads[1][i])) << i;
}

TEST(NnSequential, BuffersReusedAcrossBatches) {
  Sequential model = digits_cnn({1, 8, 8}, 10, 1);
  const Tensor x = random_tensor({16, 1, 8, 8}, 1);
  const float* out = model.forward(x, true).data();
  Tensor d(model.forward(x, true).shape(), 0.1f);
  model.backward(d);
  const Tensor x2 = random_tensor({16, 1, 8, 8}, 2);
  EXPECT_EQ(model.forward(x2, true).data(), out);
  model.backward(d);
  EXPECT_EQ(model.forward(x, false).data(), out);
  // A smaller last batch works and then the full size again.
  const Tensor& small = model.forward(random_tensor({5, 1, 8, 8}, 3), true);
  EXPECT_EQ(small.shape(), (Shape{5, 10}));
  model.backward(Tensor({5, 10}, 0.1f));
  EXPECT_EQ(model.forward(x, true).shape(), (Shape{16, 10}));
}

TEST(NnSequential, ErrorsAndSummary) {
  Sequential model = image_cnn({1, 28, 28}, 10, 1);
  EXPECT_EQ(model.output_shape({1, 28, 28}), (Shape{10}));
  EXPECT_EQ(model.num_parameters(), (9 * 32 + 32) + (32 * 9 * 64 + 64) + (64 * 7 * 7 * 128 + 128) + (128 * 10 + 10));
  const std::string s = model.summary({1, 28, 28});
  EXPECT_TRUE(contains(s, "[32, 28, 28]")) << s;
  EXPECT_TRUE(contains(s, "[3136]")) << s;
  EXPECT_TRUE(contains(s, "total parameters: " + std::to_string(model.num_parameters()))) << s;
  try {
    (void)model.output_shape({3, 28, 28});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "layer 0 (conv2d)")) << e.what();
  }
  Sequential fresh = mlp(3, {}, 2, "relu", "", 1);
  EXPECT_THROW(fresh.backward(Tensor({1, 2})), UsageError);  // no forward yet
  (void)fresh.forward(Tensor({4, 3}), false);
  EXPECT_THROW(fresh.backward(Tensor({4, 3})), UsageError);  // wrong shape
  fresh.backward(Tensor({4, 2}));
  EXPECT_THROW(fresh.backward(Tensor({4, 2})), UsageError);  // one backward per forward
  EXPECT_THROW((void)mlp(3, {4}, 2, "gelu"), UsageError);
  EXPECT_THROW((void)cnn({1, 2, 2}, 10, {8, 8}), UsageError);  // too small to pool twice
  EXPECT_EQ(mlp(3, {4}, 1, "relu", "sigmoid").layer(3).kind(), "sigmoid");
  EXPECT_EQ(digits_cnn({1, 8, 8}, 10).output_shape({1, 8, 8}), (Shape{10}));
}

// A two-moons-like problem: an MLP trained with plain SGD (written here) separates it.
TEST(NnSequential, LearnsANonlinearProblem) {
  const std::int64_t n = 256;
  Tensor x({n, 2});
  std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
  adakit::Rng rng(5);
  for (std::int64_t i = 0; i < n; ++i) {
    const double a = rng.uniform(0, 3.14159), r = 1 + rng.uniform(-0.1, 0.1);
    const bool upper = i % 2 == 0;
    x[2 * i] = static_cast<float>(upper ? r * std::cos(a) : 1 - r * std::cos(a));
    x[2 * i + 1] = static_cast<float>(upper ? r * std::sin(a) : 0.5 - r * std::sin(a));
    labels[static_cast<std::size_t>(i)] = upper ? 1 : 0;
  }
  Sequential model = mlp(2, {32, 32}, 2, "relu", "", 7);
  Tensor d;
  double first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    const Tensor& y = model.forward(x, true);
    last = softmax_cross_entropy_loss(y, labels, d);
    if (step == 0) first = last;
    model.zero_grad();
    model.backward(d);
    for (Parameter* p : model.parameters())
      for (std::int64_t k = 0; k < p->numel(); ++k) p->value()[k] -= 0.5f * p->grad()[k];
  }
  EXPECT_LT(last, 0.2 * first);
  EXPECT_GT(accuracy(model.forward(x, false), labels), 0.97);
}

// The backward hook sees the layers from the last to the first, each when its gradients are final:
// a copy taken inside the hook equals the gradient after backward() returns.
TEST(NnSequential, BackwardHookRunsAfterEachLayerInReverse) {
  Sequential model = mlp(3, {4, 5}, 2, "tanh", "", 11);  // linear, tanh, linear, tanh, linear
  Tensor x = random_tensor({6, 3}, 1);
  std::vector<std::size_t> seen;
  std::vector<Tensor> at_hook(model.size());
  model.set_backward_hook([&](std::size_t i) {
    seen.push_back(i);
    auto params = model.layer(i).parameters();
    if (!params.empty()) at_hook[i] = params[0]->grad();
  });
  const Tensor& y = model.forward(x, true);
  Tensor d = random_tensor(y.shape(), 2);
  model.zero_grad();
  model.backward(d);
  const std::vector<std::size_t> want{4, 3, 2, 1, 0};
  EXPECT_EQ(seen, want);
  for (std::size_t i : {0u, 2u, 4u}) EXPECT_TRUE(same(at_hook[i], model.layer(i).parameters()[0]->grad())) << i;
  model.set_backward_hook({});  // removed: backward runs without it
  model.forward(x, true);
  model.backward(d);
  EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
