// The formulas written once and shared across floors (optim/adagrad.hpp's coordinate step, optim/clip.hpp's
// factors, core/logistic.hpp's sigmoid), against hand computations in float and double.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "adakit/core/logistic.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/clip.hpp"

namespace {
using namespace adakit::optim;

TEST(AdagradFormula, DoubleInstantiationEqualsTheHandComputation) {
  // s = 2, g = 3: s' = 11, d = √11 + 1e-3 (outside) or √(11 + 1e-3) (inside).
  double s = 2.0;
  const double r = adagrad_scale<false, false, false>(3.0, 3.0, s, 1e-3);
  EXPECT_EQ(s, 11.0);
  EXPECT_EQ(r, 3.0 / (std::sqrt(11.0) + 1e-3));
  EXPECT_NE(r, static_cast<double>(3.0f / (std::sqrt(11.0f) + 1e-3f)));  // not a float computation

  s = 2.0;
  EXPECT_EQ((adagrad_scale<true, false, false>(3.0, 3.0, s, 1e-3)), 3.0 / std::sqrt(11.0 + 1e-3));
  // accumulate_after_update (GloVe): the step uses the sum before g².
  s = 2.0;
  EXPECT_EQ((adagrad_scale<false, true, false>(3.0, 3.0, s, 0.0)), 3.0 / std::sqrt(2.0));
  EXPECT_EQ(s, 11.0);
  // x is what the step divides: lr / d, the coordinate's step size.
  s = 2.0;
  EXPECT_EQ((adagrad_scale<false, false, false>(0.5, 3.0, s, 1e-3)), 0.5 / (std::sqrt(11.0) + 1e-3));
  // Optax: no update while the sum is 0.
  s = 0.0;
  EXPECT_EQ((adagrad_scale<true, true, true>(3.0, 3.0, s, 1e-7)), 0.0);
  EXPECT_EQ(s, 9.0);
  s = 0.0;
  EXPECT_GT((adagrad_scale<true, true, false>(3.0, 3.0, s, 1e-7)), 1e3);
}

TEST(AdagradFormula, FloatInstantiationIsTheKernelsStep) {
  // One coordinate through adagrad_step equals θ − clr · (g / (√(s + g²) + eps)) in float.
  std::vector<float> p{0.7f}, g{-1.25f}, s{0.3f};
  const AdagradOptions o{.lr = 0.1, .eps = 1e-4};
  adagrad_step(p, g, s, o, 1);
  const float s1 = 0.3f + -1.25f * -1.25f;
  EXPECT_EQ(s[0], s1);
  EXPECT_FLOAT_EQ(p[0], 0.7f - 0.1f * (-1.25f / (std::sqrt(s1) + 1e-4f)));  // the kernel may fuse the multiply-add
}

TEST(AdagradFormula, EffectiveLearningRateHonoursEpsMode) {
  AdagradOptions o{.lr = 0.5, .eps = 0.25};
  EXPECT_EQ(adagrad_effective_lr(o, 4.0), 0.5 / (2.0 + 0.25));
  o.eps_mode = EpsMode::inside;
  EXPECT_EQ(adagrad_effective_lr(o, 4.0), 0.5 / std::sqrt(4.25));
  EXPECT_EQ(adagrad_denominator(4.0, 0.25, EpsMode::outside), 2.25);
}

TEST(AdagradFormula, PresetConstantsAreTheNamedConventions) {
  for (auto name : adagrad_convention_names()) {
    SCOPED_TRACE(std::string(name));
    const AdagradOptions a = adagrad_convention(name);
    const AdagradOptions b = name == "pytorch" ? adagrad_conventions::pytorch
                             : name == "keras" ? adagrad_conventions::keras
                             : name == "optax" ? adagrad_conventions::optax
                             : name == "tf1"   ? adagrad_conventions::tf1
                                               : adagrad_conventions::glove;
    EXPECT_EQ(a.initial_accumulator_value, b.initial_accumulator_value);
    EXPECT_EQ(a.eps, b.eps);
    EXPECT_EQ(a.eps_mode, b.eps_mode);
    EXPECT_EQ(a.zero_update_where_sum_zero, b.zero_update_where_sum_zero);
    EXPECT_EQ(a.accumulate_after_update, b.accumulate_after_update);
  }
  EXPECT_EQ(adagrad_conventions::glove.initial_accumulator_value, 1.0);
  EXPECT_TRUE(adagrad_conventions::glove.accumulate_after_update);
  EXPECT_EQ(adagrad_conventions::glove.eps, 0.0);
  EXPECT_EQ(adagrad_conventions::keras.eps_mode, EpsMode::inside);
  EXPECT_TRUE(adagrad_conventions::optax.zero_update_where_sum_zero);
}

TEST(ClipFormula, ValueAndNormFactor) {
  EXPECT_EQ(clip_value(3.5, 2.0), 2.0);
  EXPECT_EQ(clip_value(-3.5f, 2.0f), -2.0f);
  EXPECT_EQ(clip_value(1.5, 2.0), 1.5);
  EXPECT_EQ(clip_value(1e300, std::numeric_limits<double>::infinity()), 1e300);
  EXPECT_TRUE(std::isnan(clip_value(std::nan(""), 2.0)));
  EXPECT_EQ(norm_clip_coefficient({.max_norm = 2.0}, 4.0), 2.0 / (4.0 + 1e-6));
  EXPECT_EQ(norm_clip_coefficient({}, 4.0), 1.0);  // off
}

TEST(LogisticFormula, SigmoidIsStableAndExact) {
  for (double z : {-800.0, -30.0, -2.5, -0.0, 0.0, 0.75, 40.0, 800.0}) {
    SCOPED_TRACE(z);
    const double want = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    EXPECT_EQ(adakit::sigmoid(z), want);
    EXPECT_EQ(adakit::sigmoid_from_exp(z, std::exp(-std::abs(z))), want);
  }
  EXPECT_GT(adakit::sigmoid(-710.0), 0.0);  // e^{-710} / (1 + e^{-710}), not 1 / (1 + inf)
  EXPECT_EQ(adakit::sigmoid(2.0f), 1.0f / (1.0f + std::exp(-2.0f)));
}

TEST(LogisticFormula, LossIsTheClosedFormAndItsLimits) {
  for (double z : {-30.0, -2.5, 0.0, 0.75, 40.0}) {
    for (double y : {0.0, 0.3, 1.0}) {
      SCOPED_TRACE(::testing::Message() << "z " << z << " y " << y);
      const auto l = adakit::logistic_loss(z, y);
      const double p = adakit::sigmoid(z);  // -y log p - (1 - y) log(1 - p), in the stable form
      const double want = std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
      EXPECT_NEAR(l.loss, want, 1e-15 * (1.0 + std::abs(want)));
      if (std::abs(z) < 5) {
        EXPECT_NEAR(l.loss, -y * std::log(p) - (1 - y) * std::log(1 - p), 1e-12);
      }
      EXPECT_EQ(l.grad, p - y);
    }
  }
  // Hard targets: the margin part exact (max(z,0) and max(-z,0)), and the limits at infinity, not inf - inf.
  EXPECT_EQ(adakit::logistic_loss(3.0, 1.0).loss, std::log1p(std::exp(-3.0)));
  EXPECT_EQ(adakit::logistic_loss(3.0, 0.0).loss, 3.0 + std::log1p(std::exp(-3.0)));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(adakit::logistic_loss(inf, 1.0).loss, 0.0);
  EXPECT_EQ(adakit::logistic_loss(-inf, 0.0).loss, 0.0);
  EXPECT_EQ(adakit::logistic_loss(inf, 0.0).loss, inf);
  EXPECT_EQ(adakit::logistic_loss(-inf, 1.0).loss, inf);
}

TEST(LogisticFormula, ShiftedExpSumInEitherPrecision) {
  const std::vector<float> z = {1000.5f, 998.25f, -3.0f, 1000.0f};  // e^{1000} overflows unshifted
  const auto d = adakit::shifted_exp_sum<double>(z);
  EXPECT_EQ(d.max, 1000.5);
  double sum = 0, total = 0;
  for (float v : z) sum += std::exp(static_cast<double>(v) - 1000.5);
  EXPECT_EQ(d.sum, sum);
  EXPECT_EQ(d.log_sum_exp(), 1000.5 + std::log(sum));
  for (float v : z) total += d.softmax(v);
  EXPECT_NEAR(total, 1.0, 1e-15);
  EXPECT_NEAR(d.softmax(1000.5f) / d.softmax(1000.0f), std::exp(0.5), 1e-12);
  // float: the shift in float (torch's log_softmax), the sum in double.
  const auto f = adakit::shifted_exp_sum<float>(z);
  float fsum_shift = 998.25f - 1000.5f;
  EXPECT_EQ(f.max, 1000.5f);
  EXPECT_EQ(f.exp_shifted(998.25f), std::exp(static_cast<double>(fsum_shift)));
  EXPECT_EQ(f.log_sum_exp(), 1000.5f + static_cast<float>(std::log(f.sum)));
  EXPECT_NEAR(f.log_sum_exp(), d.log_sum_exp(), 1e-4);
}

}  // namespace
