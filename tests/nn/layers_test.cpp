// nn layers: numerical gradient checks for every layer, forward against hand values and a naive
// convolution, configs, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/nn/layers.hpp"
#include "gradcheck.hpp"

namespace {

using adakit::Error;
using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;
using namespace adakit::nn;
using nn_test::away_from_zero;
using nn_test::check_layer;
using nn_test::distinct_values;
using nn_test::GradCheck;
using nn_test::random_tensor;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Direct convolution, in double: y[b][o][oh][ow] = bias[o] + Σ w[o][c][i][j] x[b][c][oh*s-p+i][ow*s-p+j].
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* bias, std::int64_t stride, std::int64_t pad) {
  const auto B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), O = w.dim(0), k = w.dim(2);
  const auto OH = (H + 2 * pad - k) / stride + 1, OW = (W + 2 * pad - k) / stride + 1;
  Tensor y({B, O, OH, OW});
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t oh = 0; oh < OH; ++oh)
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          double s = bias ? (*bias)[o] : 0.0;
          for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t i = 0; i < k; ++i)
              for (std::int64_t j = 0; j < k; ++j) {
                const auto ih = oh * stride - pad + i, iw = ow * stride - pad + j;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += static_cast<double>(w[((o * C + c) * k + i) * k + j]) * x[((b * C + c) * H + ih) * W + iw];
              }
          y[((b * O + o) * OH + oh) * OW + ow] = static_cast<float>(s);
        }
  return y;
}

// ---------------------------------------------------------------- Linear

TEST(LayerLinear, ForwardHandExample) {
  Linear lin(3, 2);
  const float w[] = {1, 2, 3, 4, 5, 6};
  std::copy(std::begin(w), std::end(w), lin.weight().value().data());
  lin.bias()->value()[0] = 0.5f;
  lin.bias()->value()[1] = -1.0f;
  const Tensor x = Tensor::from({2, 3}, {1, 0, -1, 2, 1, 0});
  Tensor y;
  lin.forward(x, y, false);
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_FLOAT_EQ(y[0], -1.5f);
  EXPECT_FLOAT_EQ(y[1], -3.0f);
  EXPECT_FLOAT_EQ(y[2], 4.5f);
  EXPECT_FLOAT_EQ(y[3], 12.0f);
  EXPECT_EQ(lin.weight().name(), "weight");
  EXPECT_EQ(lin.bias()->name(), "bias");
  EXPECT_EQ(lin.weight().shape(), (Shape{2, 3}));  // [out, in] as PyTorch
}

TEST(GradLinear, InputWeightBias) {
  Linear lin(5, 4, true, 3);
  check_layer(lin, random_tensor({3, 5}, 1));
}

TEST(GradLinear, NoBiasAndExtraDims) {
  Linear lin(4, 3, false, 9);
  EXPECT_EQ(lin.parameters().size(), 1u);
  EXPECT_EQ(lin.output_shape({2, 4}), (Shape{2, 3}));
  check_layer(lin, random_tensor({2, 2, 4}, 2));  // [B, L, in]
}

TEST(LayerLinear, GradientsAccumulate) {
  Linear lin(3, 2, true, 1);
  const Tensor x = random_tensor({4, 3}, 5), dy = random_tensor({4, 2}, 6);
  Tensor y, dx;
  lin.forward(x, y, true);
  lin.backward(x, y, dy, dx);
  const std::vector<float> once(lin.weight().grad().span().begin(), lin.weight().grad().span().end());
  lin.backward(x, y, dy, dx);
  for (std::size_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(lin.weight().grad()[static_cast<std::int64_t>(i)], 2 * once[i]);
}

TEST(LayerLinear, ShapeErrorsNameTheShapes) {
  Linear lin(4, 2);
  Tensor y;
  try {
    lin.forward(Tensor({3, 5}), y, false);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "linear")) << e.what();
    EXPECT_TRUE(contains(e.what(), "[3, 5]")) << e.what();
  }
  EXPECT_THROW((void)lin.output_shape({5}), UsageError);
  EXPECT_THROW(Linear(0, 3), UsageError);
}

// ---------------------------------------------------------------- Conv2d

TEST(LayerConv2d, ForwardMatchesNaiveConvolution) {
  struct Case { std::int64_t cin, cout, k, stride, pad, B, H, W; };
  for (const Case c : {Case{3, 4, 3, 2, 1, 3, 9, 7}, Case{2, 5, 3, 1, 1, 2, 6, 5}, Case{1, 3, 2, 1, 0, 1, 5, 8},
                       Case{4, 2, 1, 1, 0, 2, 3, 3}, Case{2, 3, 5, 3, 2, 2, 11, 6}}) {
    Conv2d conv(c.cin, c.cout, c.k, c.stride, c.pad, true, 17);
    const Tensor x = random_tensor({c.B, c.cin, c.H, c.W}, 23);
    Tensor y;
    conv.forward(x, y, false);
    const Tensor ref = naive_conv(x, conv.weight().value(), &conv.bias()->value(), c.stride, c.pad);
    ASSERT_EQ(y.shape(), ref.shape());
    EXPECT_EQ(conv.output_shape({c.cin, c.H, c.W}), Shape(ref.shape().begin() + 1, ref.shape().end()));
    for (std::int64_t i = 0; i < y.numel(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-5) << "k=" << c.k << " i=" << i;
  }
}

TEST(GradConv2d, Stride2Padding1NonSquareBatch) {
  Conv2d conv(3, 4, 3, 2, 1, true, 5);
  check_layer(conv, random_tensor({2, 3, 7, 6}, 3));
}

TEST(GradConv2d, Stride1NoPaddingNoBias) {
  Conv2d conv(2, 3, 2, 1, 0, false, 6);
  check_layer(conv, random_tensor({3, 2, 4, 5}, 4));
}

TEST(GradConv2d, SingleSample) {
  Conv2d conv(2, 2, 3, 1, 1, true, 7);
  check_layer(conv, random_tensor({1, 2, 5, 4}, 8));
}

TEST(LayerConv2d, ShapeErrors) {
  Conv2d conv(3, 4, 3);
  Tensor y;
  EXPECT_THROW(conv.forward(Tensor({2, 2, 5, 5}), y, false), UsageError);  // channels
  EXPECT_THROW(conv.forward(Tensor({2, 3, 5}), y, false), UsageError);     // rank
  EXPECT_THROW((void)conv.output_shape({3, 2, 5}), UsageError);             // smaller than the kernel
  EXPECT_THROW(Conv2d(3, 4, 3, 0), UsageError);
  EXPECT_EQ(conv.weight().shape(), (Shape{4, 3, 3, 3}));
  const Tensor x = random_tensor({2, 3, 5, 5}, 1);
  Tensor dx;
  EXPECT_THROW(conv.backward(x, y, y, dx), UsageError);  // no forward yet
  conv.forward(x, y, true);
  conv.backward(x, y, y, dx);
  EXPECT_THROW(conv.backward(x, y, y, dx), UsageError);  // its columns were used up
}

// ---------------------------------------------------------------- pooling

TEST(LayerMaxPool2d, ForwardPicksMaxima) {
  MaxPool2d pool(2);
  const Tensor x = Tensor::from({1, 1, 2, 4}, {1, 5, 2, 0, 3, 4, 8, 7});
  Tensor y;
  pool.forward(x, y, false);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(y[0], 5.0f);
  EXPECT_EQ(y[1], 8.0f);
  Tensor dx;
  pool.backward(x, y, Tensor::from({1, 1, 1, 2}, {10, 20}), dx);
  const float expected[] = {0, 10, 0, 0, 0, 0, 20, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(dx[i], expected[i]);
}

TEST(LayerMaxPool2d, TiesPickTheFirstAndNaNPropagates) {
  for (std::int64_t k : {2, 3}) {  // the 2x2 fast path and the general one
    MaxPool2d pool(k);
    Tensor x({1, 1, k, k}, 1.0f);
    x[k * k - 1] = 1.0f;
    Tensor y, dx;
    pool.forward(x, y, true);
    pool.backward(x, y, Tensor({1, 1, 1, 1}, 5.0f), dx);
    EXPECT_EQ(dx[0], 5.0f) << k;  // all equal: the first element gets the gradient
    for (std::int64_t i = 1; i < k * k; ++i) EXPECT_EQ(dx[i], 0.0f) << k;
    x[1] = NAN;
    pool.forward(x, y, false);
    EXPECT_TRUE(std::isnan(y[0])) << k;
    x[1] = -2.0f;
    x[k * k - 1] = 3.0f;
    pool.forward(x, y, true);
    EXPECT_EQ(y[0], 3.0f);
    pool.backward(x, y, Tensor({1, 1, 1, 1}, 5.0f), dx);
    EXPECT_EQ(dx[k * k - 1], 5.0f);
  }
}

TEST(GradMaxPool2d, TiesAvoided) {
  MaxPool2d pool(2);
  check_layer(pool, distinct_values({2, 3, 6, 5}, 1));  // odd width: last column dropped (floor)
}

TEST(GradMaxPool2d, OverlappingWindows) {
  MaxPool2d pool(3, 2);
  check_layer(pool, distinct_values({2, 2, 7, 6}, 2));
}

TEST(GradAvgPool2d, Basic) {
  AvgPool2d pool(2);
  check_layer(pool, random_tensor({2, 3, 4, 6}, 3));
  AvgPool2d overlap(3, 1);
  check_layer(overlap, random_tensor({1, 2, 5, 4}, 4));
  Tensor y;
  pool.forward(Tensor::from({1, 1, 2, 2}, {1, 2, 3, 6}), y, false);
  EXPECT_FLOAT_EQ(y[0], 3.0f);
}

// ---------------------------------------------------------------- shape layers and activations

TEST(GradFlatten, Basic) {
  Flatten flat;
  EXPECT_EQ(flat.output_shape({3, 4, 5}), (Shape{60}));
  check_layer(flat, random_tensor({2, 3, 2, 2}, 5));
}

TEST(GradActivations, ReluTanhSigmoid) {
  ReLU relu;
  check_layer(relu, away_from_zero({3, 7}, 1));
  Tanh tanh_layer;
  check_layer(tanh_layer, random_tensor({3, 7}, 2, -2, 2));
  Sigmoid sigmoid;
  check_layer(sigmoid, random_tensor({2, 3, 4}, 3, -4, 4));
}

TEST(LayerActivations, Values) {
  const Tensor x = Tensor::from({1, 3}, {-1, 0, 2});
  Tensor y;
  ReLU().forward(x, y, false);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[2], 2.0f);
  Sigmoid().forward(Tensor::from({1, 3}, {0, -100, 100}), y, false);
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  EXPECT_GE(y[1], 0.0f);
  EXPECT_FLOAT_EQ(y[2], 1.0f);
  Tanh().forward(x, y, false);
  EXPECT_FLOAT_EQ(y[2], std::tanh(2.0f));
}

// ---------------------------------------------------------------- Dropout

TEST(LayerDropout, IdentityWhenNotTraining) {
  Dropout drop(0.5, 1);
  const Tensor x = random_tensor({4, 5}, 1);
  Tensor y, dx;
  drop.forward(x, y, false);
  for (std::int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y[i], x[i]);
  drop.backward(x, y, x, dx);
  for (std::int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(dx[i], x[i]);
}

TEST(LayerDropout, InvertedMaskAndSeed) {
  const double p = 0.3;
  Dropout a(p, 7), b(p, 7), c(p, 8);
  const Tensor x({100, 100}, 1.0f);
  Tensor ya, yb, yc;
  a.forward(x, ya, true);
  b.forward(x, yb, true);
  c.forward(x, yc, true);
  std::int64_t dropped = 0, differ = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_TRUE(ya[i] == 0.0f || std::abs(ya[i] - 1.0f / 0.7f) < 1e-6f) << ya[i];
    dropped += ya[i] == 0.0f;
    EXPECT_EQ(ya[i], yb[i]);  // same seed, same mask
    differ += ya[i] != yc[i];
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 10000.0, p, 0.02);
  EXPECT_GT(differ, 1000);
  Tensor ya2;
  a.forward(x, ya2, true);  // the stream advances: a new mask
  std::int64_t changed = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) changed += ya[i] != ya2[i];
  EXPECT_GT(changed, 1000);
}

TEST(GradDropout, SameMaskEachForward) {
  Dropout drop(0.4, 3);
  const auto start = drop.rng().state();
  GradCheck o;
  o.training = true;
  o.before_forward = [&] { drop.rng().set_state(start); };
  check_layer(drop, random_tensor({3, 8}, 9), o);
  EXPECT_THROW(Dropout(1.0), UsageError);
  EXPECT_THROW(Dropout(-0.1), UsageError);
}

// ---------------------------------------------------------------- Embedding

TEST(LayerEmbedding, ForwardLooksUpRows) {
  Embedding emb(5, 3, 11);
  const Tensor ids = Tensor::from({2, 2}, {4, 0, 4, 2});
  Tensor y;
  emb.forward(ids, y, false);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3}));
  const Tensor& w = emb.weight().value();
  for (int pos = 0; pos < 4; ++pos)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(y[pos * 3 + j], w[static_cast<std::int64_t>(ids[pos]) * 3 + j]);
  emb.forward(Tensor::from({3}, {1, 2, 3}), y, false);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(emb.output_shape({}), (Shape{3}));
  EXPECT_EQ(emb.output_shape({7}), (Shape{7, 3}));
}

TEST(GradEmbedding, RowSparseGradEqualsDenseNumeric) {
  Embedding emb(6, 4, 2);
  GradCheck o;
  o.check_input = false;
  const Tensor ids = Tensor::from({3, 2}, {1, 5, 1, 0, 3, 1});  // duplicates: rows sum
  check_layer(emb, ids, o);
  // The gradient is row-sparse: dense grad untouched, indices = ids in order, values = dy rows.
  Tensor y, dx;
  emb.weight().zero_grad();
  emb.forward(ids, y, true);
  const Tensor dy = random_tensor(y.shape(), 3);
  emb.backward(ids, y, dy, dx);
  ASSERT_TRUE(emb.weight().has_sparse_grad());
  const auto& sg = *emb.weight().sparse_grad();
  EXPECT_EQ(sg.indices, (std::vector<std::int64_t>{1, 5, 1, 0, 3, 1}));
  ASSERT_EQ(sg.values.size(), 24u);
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(sg.values[i], dy[static_cast<std::int64_t>(i)]);
  for (float g : emb.weight().grad().span()) EXPECT_EQ(g, 0.0f);
  for (float g : dx.span()) EXPECT_EQ(g, 0.0f);
  emb.backward(ids, y, dy, dx);  // appends
  EXPECT_EQ(emb.weight().sparse_grad()->indices.size(), 12u);
  EXPECT_EQ(emb.weight().sparse_grad()->values.size(), 48u);
}

TEST(LayerEmbedding, OutOfRangeIdNamed) {
  Embedding emb(10, 2);
  Tensor y;
  try {
    emb.forward(Tensor::from({3}, {1, 12, 3}), y, false);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "12")) << e.what();
    EXPECT_TRUE(contains(e.what(), "position 1")) << e.what();
  }
  EXPECT_THROW(emb.forward(Tensor::from({2}, {-1, 0}), y, false), UsageError);
  EXPECT_THROW(emb.forward(Tensor::from({2}, {0.5f, 0}), y, false), UsageError);
  EXPECT_THROW(emb.forward(Tensor::from({1}, {NAN}), y, false), UsageError);
}

// ---------------------------------------------------------------- configs

TEST(LayerConfig, RoundTripEveryKind) {
  std::vector<std::unique_ptr<Layer>> layers;
  layers.push_back(std::make_unique<Linear>(4, 3, false, 12, Init::xavier_normal));
  layers.push_back(std::make_unique<Conv2d>(2, 3, 3, 2, 1, true, 5, Init::kaiming_uniform));
  layers.push_back(std::make_unique<MaxPool2d>(3, 2));
  layers.push_back(std::make_unique<AvgPool2d>(2));
  layers.push_back(std::make_unique<Flatten>());
  layers.push_back(std::make_unique<Dropout>(0.25, 99));
  layers.push_back(std::make_unique<ReLU>());
  layers.push_back(std::make_unique<Tanh>());
  layers.push_back(std::make_unique<Sigmoid>());
  layers.push_back(std::make_unique<Embedding>(7, 2, 4));
  ASSERT_EQ(layers.size(), layer_kinds().size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    auto& layer = *layers[i];
    EXPECT_EQ(layer.kind(), layer_kinds()[i]);
    const nlohmann::json c = layer.config();
    EXPECT_EQ(c.at("kind"), layer.kind());
    auto copy = make_layer(c);
    EXPECT_EQ(copy->kind(), layer.kind());
    EXPECT_EQ(copy->config(), c);
    auto a = layer.parameters(), b = copy->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j]->name(), b[j]->name());
      for (std::int64_t k = 0; k < a[j]->numel(); ++k) ASSERT_EQ(a[j]->value()[k], b[j]->value()[k]);
    }
  }
}

TEST(LayerConfig, BadConfigsAreErrors) {
  using nlohmann::json;
  auto field_of = [](const json& c) -> std::string {
    try {
      (void)make_layer(c);
    } catch (const Error& e) {
      return e.context().field;
    }
    return "<no error>";
  };
  EXPECT_EQ(field_of(json{{"kind", "lstm"}}), "kind");
  EXPECT_EQ(field_of(json{{"in_features", 3}}), "kind");
  EXPECT_EQ(field_of(json::array()), "");
  EXPECT_EQ(field_of(json{{"kind", "linear"}, {"out_features", 3}}), "in_features");
  EXPECT_EQ(field_of(json{{"kind", "linear"}, {"in_features", "3"}, {"out_features", 3}}), "in_features");
  EXPECT_EQ(field_of(json{{"kind", "linear"}, {"in_features", 3}, {"out_features", 3}, {"bais", true}}), "bais");
  EXPECT_EQ(field_of(json{{"kind", "linear"}, {"in_features", -3}, {"out_features", 3}}), "in_features");
  EXPECT_EQ(field_of(json{{"kind", "linear"}, {"in_features", 3}, {"out_features", 3}, {"init", "magic"}}), "init");
  EXPECT_EQ(field_of(json{{"kind", "dropout"}, {"p", 1.5}}), "p");
  EXPECT_EQ(field_of(json{{"kind", "dropout"}, {"p", 0.1}, {"seed", -1}}), "seed");
  EXPECT_EQ(field_of(json{{"kind", "conv2d"}, {"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 3},
                          {"padding", -1}}), "padding");
  EXPECT_EQ(make_layer(json{{"kind", "max_pool2d"}, {"kernel_size", 2}})->config().at("stride"), 2);
}

}  // namespace
