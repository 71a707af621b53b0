// nn losses: numerical gradient checks, hand values, stability, predictions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/nn/loss.hpp"
#include "gradcheck.hpp"

namespace {

using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;
using namespace adakit::nn;
using nn_test::GradCheck;
using nn_test::random_tensor;

// Analytic gradient of loss(pred) against central differences in pred.
void check_loss(Tensor pred, const std::function<double(const Tensor&, Tensor&)>& loss, const std::string& what) {
  Tensor grad;
  (void)loss(pred, grad);
  ASSERT_EQ(grad.shape(), pred.shape());
  std::vector<double> analytic(grad.span().begin(), grad.span().end()), numeric;
  Tensor scratch;
  for (std::int64_t i = 0; i < pred.numel(); ++i)
    numeric.push_back(nn_test::numeric_derivative(&pred[i], 1e-2, [&] { return loss(pred, scratch); }));
  GradCheck o;
  o.atol = 1e-4;
  nn_test::expect_close(analytic, numeric, o, what);
}

TEST(LossMse, ValueAndGradient) {
  const Tensor target = random_tensor({4, 3}, 2);
  Tensor d;
  const double l = mse_loss(Tensor::from({1, 2}, {1, 3}), Tensor::from({1, 2}, {0, 1}), d);
  EXPECT_DOUBLE_EQ(l, (1.0 + 4.0) / 2.0);
  EXPECT_FLOAT_EQ(d[0], 1.0f);  // 2 (p - t) / n
  EXPECT_FLOAT_EQ(d[1], 2.0f);
  check_loss(random_tensor({4, 3}, 1), [&](const Tensor& p, Tensor& g) { return mse_loss(p, target, g); }, "mse");
  EXPECT_THROW(mse_loss(Tensor({2, 3}), Tensor({3, 2}), d), UsageError);
}

TEST(LossBce, GradientAndShapes) {
  Tensor targets = Tensor::from({6}, {1, 0, 1, 1, 0, 0});
  check_loss(random_tensor({6}, 3, -3, 3),
             [&](const Tensor& z, Tensor& g) { return bce_with_logits_loss(z, targets, g); }, "bce [B]");
  targets.reshape({6, 1});
  check_loss(random_tensor({6, 1}, 4, -3, 3),
             [&](const Tensor& z, Tensor& g) { return bce_with_logits_loss(z, targets, g); }, "bce [B, 1]");
  Tensor d;
  EXPECT_NEAR(bce_with_logits_loss(Tensor::from({1}, {0}), Tensor::from({1}, {1}), d), std::log(2.0), 1e-12);
  EXPECT_THROW(bce_with_logits_loss(Tensor({3}), Tensor({4}), d), UsageError);
}

TEST(LossBce, StableForLargeLogits) {
  Tensor d;
  const double l = bce_with_logits_loss(Tensor::from({4}, {100, -100, 100, -100}), Tensor::from({4}, {1, 0, 0, 1}), d);
  EXPECT_TRUE(std::isfinite(l));
  EXPECT_NEAR(l, 50.0, 1e-9);  // (0 + 0 + 100 + 100) / 4
  for (float g : d.span()) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(d[0], 0.0f, 1e-12);
  EXPECT_NEAR(d[1], 0.0f, 1e-12);
  EXPECT_FLOAT_EQ(d[2], 0.25f);
  EXPECT_FLOAT_EQ(d[3], -0.25f);
}

TEST(LossSoftmaxCrossEntropy, HandValue2x3) {
  const Tensor logits = Tensor::from({2, 3}, {1, 2, 3, 1, 1, 1});
  const std::vector<std::int32_t> labels = {2, 0};
  Tensor d;
  const double l = softmax_cross_entropy_loss(logits, labels, d);
  // row 0: log(e + e² + e³) - 3 = log(1 + e⁻¹ + e⁻²); row 1: log 3.
  const double expected = (std::log(1.0 + std::exp(-1.0) + std::exp(-2.0)) + std::log(3.0)) / 2.0;
  EXPECT_NEAR(l, expected, 1e-6);
  EXPECT_NEAR(l, 0.7531091265, 1e-6);
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(d[0], std::exp(1.0) / s / 2, 1e-7);
  EXPECT_NEAR(d[2], (std::exp(3.0) / s - 1) / 2, 1e-7);
  EXPECT_NEAR(d[3], (1.0 / 3 - 1) / 2, 1e-7);
  EXPECT_NEAR(d[4], 1.0 / 6, 1e-7);
}

TEST(LossSoftmaxCrossEntropy, GradientStabilityAndErrors) {
  const std::vector<std::int32_t> labels = {0, 3, 2, 1, 3};
  check_loss(random_tensor({5, 4}, 5, -3, 3),
             [&](const Tensor& z, Tensor& g) { return softmax_cross_entropy_loss(z, labels, g); }, "softmax ce");
  Tensor d;
  const double l = softmax_cross_entropy_loss(Tensor::from({1, 2}, {1000, -1000}), std::vector<std::int32_t>{1}, d);
  EXPECT_NEAR(l, 2000.0, 1e-3);
  for (float g : d.span()) EXPECT_TRUE(std::isfinite(g));
  try {
    (void)softmax_cross_entropy_loss(Tensor({2, 3}), std::vector<std::int32_t>{0, 3}, d);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("label 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(softmax_cross_entropy_loss(Tensor({2, 3}), std::vector<std::int32_t>{-1, 0}, d), UsageError);
  EXPECT_THROW(softmax_cross_entropy_loss(Tensor({2, 3}), std::vector<std::int32_t>{0}, d), UsageError);
  EXPECT_THROW(softmax_cross_entropy_loss(Tensor({6}), std::vector<std::int32_t>(6, 0), d), UsageError);
}

TEST(LossAccuracy, ArgmaxAndThreshold) {
  const Tensor logits = Tensor::from({3, 3}, {0.1f, 0.9f, 0.0f, 2, 1, 0, 0, 0, 5});
  EXPECT_EQ(predict_classes(logits), (std::vector<std::int32_t>{1, 0, 2}));
  EXPECT_DOUBLE_EQ(accuracy(logits, std::vector<std::int32_t>{1, 0, 0}), 2.0 / 3.0);
  EXPECT_EQ(count_correct(logits, std::vector<std::int32_t>{1, 0, 2}), 3);
  const Tensor single = Tensor::from({4, 1}, {-1, 2, 0, 0.5f});
  EXPECT_EQ(predict_classes(single), (std::vector<std::int32_t>{0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(accuracy(single, std::vector<std::int32_t>{0, 1, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(binary_accuracy(Tensor::from({3}, {-1, 2, 3}), Tensor::from({3}, {0, 1, 0})), 2.0 / 3.0);
  EXPECT_THROW((void)accuracy(logits, std::vector<std::int32_t>{1}), UsageError);
  Tensor probs;
  softmax(logits, probs);
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(probs[r * 3] + probs[r * 3 + 1] + probs[r * 3 + 2], 1.0f, 1e-6);
}

}  // namespace

// Class-weighted means (torch.nn.CrossEntropyLoss(weight=w)'s 'mean': Σ v_b ℓ_b / Σ v_b). Reference
// values: a float64 NumPy transcription of the formula in nn/loss.hpp (log-sum-exp with the row max
// subtracted; softplus for the logistic loss), printed with repr().
TEST(LossClassWeights, SoftmaxCrossEntropyMatchesAFloat64Reference) {
  const Tensor z = Tensor::from({4, 3}, {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.5f, -0.3f, 0.8f, 0.1f, 2.0f, 1.0f, 0.0f});
  const std::vector<std::int32_t> labels = {2, 0, 1, 1};
  const std::vector<float> w = {0.5f, 2.0f, 1.5f};
  Tensor d;
  EXPECT_NEAR(softmax_cross_entropy_loss(z, labels, d, w), 0.7601987565315756, 1e-6);
  const std::vector<double> g = {0.04382259803500917,  0.009778143317671862, -0.05360074135268106,
                                 -0.02472383533151883, 0.016791902319087584, 0.007931933012431254,
                                 0.06065027221098341,  -0.15112984621399442, 0.09047957400301106,
                                 0.221746985258274,    -0.25175717631506744, 0.030010191056793492};
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(d[static_cast<std::int64_t>(i)], g[i], 1e-6) << i;
  check_loss(random_tensor({5, 4}, 7, -3, 3),
             [&](const Tensor& x, Tensor& gx) {
               return softmax_cross_entropy_loss(x, std::vector<std::int32_t>{0, 3, 2, 1, 3}, gx,
                                                 std::vector<float>{0.5f, 1.0f, 2.0f, 0.25f});
             },
             "weighted softmax ce");
  // Weights of 1 are the plain mean, bit for bit; all-zero weights give 0 and no gradient.
  Tensor plain, ones;
  EXPECT_EQ(softmax_cross_entropy_loss(z, labels, plain), softmax_cross_entropy_loss(z, labels, ones, std::vector<float>(3, 1.0f)));
  EXPECT_TRUE(std::equal(plain.span().begin(), plain.span().end(), ones.span().begin()));
  EXPECT_EQ(softmax_cross_entropy_loss(z, labels, d, std::vector<float>(3, 0.0f)), 0.0);
  for (const float x : d.span()) EXPECT_EQ(x, 0.0f);
  EXPECT_THROW(softmax_cross_entropy_loss(z, labels, d, std::vector<float>{1.0f, 1.0f}), UsageError);
}

TEST(LossClassWeights, BceMatchesAFloat64Reference) {
  const Tensor z = Tensor::from({4}, {0.7f, -1.2f, 0.3f, 2.5f}), t = Tensor::from({4}, {1, 0, 0, 1});
  const std::vector<float> w = {0.25f, 3.0f};
  Tensor d;
  EXPECT_NEAR(bce_with_logits_loss(z, t, d, w), 0.26548258115164036, 1e-6);
  const std::vector<double> g = {-0.15314410515315413, 0.008902892942345477, 0.02209394295429458, -0.03501146770211236};
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(d[static_cast<std::int64_t>(i)], g[i], 1e-6) << i;
  Tensor plain, ones;
  EXPECT_EQ(bce_with_logits_loss(z, t, plain), bce_with_logits_loss(z, t, ones, std::vector<float>{1.0f, 1.0f}));
  EXPECT_TRUE(std::equal(plain.span().begin(), plain.span().end(), ones.span().begin()));
  EXPECT_THROW(bce_with_logits_loss(z, Tensor::from({4}, {1, 0, 0.5f, 1}), d, w), UsageError);  // not 0/1
  EXPECT_THROW(bce_with_logits_loss(z, t, d, std::vector<float>{1.0f}), UsageError);
}
