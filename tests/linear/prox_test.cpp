// The proximal step and its closed-form catch-up against brute force; composite mirror descent
// against its objective; adagrad-l1 without regularisation is AdaGrad. (Sparsity and option checks:
// the linear suite, suite_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/prox.hpp"
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

}  // namespace
