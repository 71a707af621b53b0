// The proximal step and its closed-form catch-up against brute force; composite mirror descent
// against its objective; adagrad-l1 without regularisation is AdaGrad; L1 gives exact zeros.
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/core/error.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/prox.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::golden_min;
using linear_test::make_dataset;
using linear_test::Spec;

TEST(ProxStep, MatchesBruteForceMinimisationOfItsObjective) {
  int cases = 0, zeros = 0;
  for (double u : {-3.0, -0.5, -1e-3, 0.0, 0.2, 1.7, 40.0})
    for (double h : {1e-3, 0.5, 2.0, 30.0})
      for (double eta : {0.1, 1.0})
        for (double l1 : {0.0, 0.01, 0.3, 2.0})
          for (double l2 : {0.0, 0.1, 5.0}) {
            auto f = [&](double th) {
              return 0.5 * h * (th - u) * (th - u) + eta * l1 * std::abs(th) + 0.5 * eta * l2 * th * th;
            };
            const double brute = golden_min(f, -std::abs(u) - 1.0, std::abs(u) + 1.0);
            const double got = prox_l1_l2(u, eta / h, l1, l2);
            EXPECT_NEAR(got, brute, 1e-6 * (1.0 + std::abs(u))) << u << " " << h << " " << eta << " " << l1 << " " << l2;
            EXPECT_LE(f(got), f(brute) + 1e-12 * (1.0 + f(brute)));
            ++cases;
            zeros += got == 0.0;
          }
  EXPECT_EQ(cases, 672);
  EXPECT_GT(zeros, 100);  // exact zeros, not tiny values
  EXPECT_LT(zeros, 600);
}

// adagrad_l1_coordinate is argmin_θ η g θ + η λ1|θ| + η λ2/2 θ² + H/2 (θ − θ_t)², H = eps + √(s + g²).
TEST(ProxStep, CompositeMirrorDescentCoordinateMinimisesTheCompositeObjective) {
  for (float theta0 : {-1.5f, 0.0f, 0.04f, 2.0f})
    for (float s0 : {0.0f, 0.3f, 9.0f})
      for (float g : {-2.0f, -0.01f, 0.5f})
        for (double l1 : {0.0, 0.05, 1.0})
          for (double l2 : {0.0, 0.5}) {
            const double lr = 0.3, eps = 1e-10;
            float theta = theta0, s = s0;
            adagrad_l1_coordinate(theta, s, g, lr, eps, l1, l2);
            const double h = eps + std::sqrt(static_cast<double>(s0) + static_cast<double>(g) * g);
            auto f = [&](double th) {
              return lr * g * th + lr * l1 * std::abs(th) + 0.5 * lr * l2 * th * th + 0.5 * h * (th - theta0) * (th - theta0);
            };
            const double brute = golden_min(f, -10.0, 10.0);
            EXPECT_NEAR(theta, brute, 1e-6 * (1.0 + std::abs(brute))) << theta0 << " " << s0 << " " << g << " " << l1;
            EXPECT_FLOAT_EQ(s, s0 + g * g);
          }
}

TEST(ProxStep, ClosedFormCatchUpEqualsRepeatedSteps) {
  for (double theta : {-2.0, 0.3, 1e-4, 5.0})
    for (std::int64_t k : {0, 1, 2, 5, 37, 500})
      for (double a : {0.01, 0.5})
        for (double l1 : {0.0, 0.01, 0.2})
          for (double l2 : {0.0, 1e-12, 0.001, 0.3}) {
            double loop = theta;
            for (std::int64_t i = 0; i < k; ++i) loop = prox_l1_l2(loop, a, l1, l2);
            const double closed = prox_l1_l2_repeat(theta, k, a, l1, l2);
            EXPECT_NEAR(closed, loop, 1e-12 * (1.0 + std::abs(theta)))
                << theta << " k=" << k << " a=" << a << " l1=" << l1 << " l2=" << l2;
          }
  // Exact zeros once the shrink has used up the weight, with or without L2.
  EXPECT_EQ(prox_l1_l2_repeat(0.3, 500, 0.5, 0.01, 0.0), 0.0);
  EXPECT_EQ(prox_l1_l2_repeat(-0.3, 500, 0.5, 0.01, 0.1), 0.0);
  EXPECT_GT(prox_l1_l2_repeat(0.3, 50, 0.5, 0.01, 0.0), 0.0);
  EXPECT_EQ(prox_l1_l2_repeat(0.0, 5, 0.5, 0.01, 0.1), 0.0);
}

TEST(ProxAdagradL1, WithoutRegularisationIsAdagrad) {
  const Spec s{.dim = 5000, .informative = 50, .classes = 3};
  const auto d = make_dataset(s, 300, 1);
  LinearModel a = LinearModel::for_dataset(d), b = LinearModel::for_dataset(d);
  AdagradL1 prox({.lr = 0.2});
  LazyAdagrad ada({.lr = 0.2});
  fit(a, prox, d, {.epochs = 2, .batch_size = 3, .seed = 1});
  fit(b, ada, d, {.epochs = 2, .batch_size = 3, .seed = 1});
  for (std::size_t i = 0; i < a.weights().size(); ++i) ASSERT_NEAR(a.weights()[i], b.weights()[i], 1e-5) << i;
  for (std::size_t i = 0; i < a.bias().size(); ++i) EXPECT_NEAR(a.bias()[i], b.bias()[i], 1e-5);
}

// Many irrelevant rare features: a strong L1 zeroes >= 80% of the features the data contain (exact
// zeros) while the informative ones keep the accuracy.
TEST(ProxAdagradL1, StrongL1GivesExactZerosAndKeepsAccuracy) {
  const Spec s{};
  const auto train = make_dataset(s, 2000, 1), test = make_dataset(s, 1000, 2);
  const auto present = linear_test::present_features(train);
  for (const auto& [name, options] :
       {std::pair{"adagrad-l1", optim::OptionMap{{"lr", "0.5"}, {"l1", "0.002"}}},
        std::pair{"sgd", optim::OptionMap{{"lr", "0.5"}, {"l1", "0.002"}}}}) {
    LinearModel m = LinearModel::for_dataset(train);
    auto opt = make_linear_optimizer(name, options);
    fit(m, *opt, train, {.epochs = 5, .batch_size = 4, .seed = 1});
    const auto zero = std::count_if(present.begin(), present.end(), [&](std::int64_t f) { return m.weight_row(f)[0] == 0.0f; });
    const double fraction = static_cast<double>(zero) / static_cast<double>(present.size());
    EXPECT_GE(fraction, 0.8) << name;
    EXPECT_EQ(m.count_nonzero_weights(), static_cast<std::int64_t>(present.size()) - zero) << name;
    EXPECT_GE(evaluate(m, test).accuracy, 0.9) << name;
  }
}

TEST(ProxOptions, ValidateNamesTheField) {
  auto field_of = [](auto fn) {
    try {
      fn();
    } catch (const UsageError& e) {
      return e.context().field;
    }
    return std::string("none");
  };
  EXPECT_EQ(field_of([] { AdagradL1({.lr = 0.0}); }), "lr");
  EXPECT_EQ(field_of([] { AdagradL1({.l1 = -1.0}); }), "l1");
  EXPECT_EQ(field_of([] { AdagradL1({.l2 = NAN}); }), "l2");
  EXPECT_EQ(field_of([] { AdagradL1({.eps = 0.0}); }), "eps");
  EXPECT_EQ(field_of([] { LazySgd({.l2 = -0.5}); }), "l2");
  EXPECT_EQ(field_of([] { LazyAdagrad({.weight_decay = 0.1}); }), "weight_decay");
}

}  // namespace
