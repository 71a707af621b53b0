// AdaGrad-RDA: the weight is the argmin of its objective; the lazy optimizer equals eager dual
// averaging written with the paper's closed form. (Sparsity and option checks: suite_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/linear/fit.hpp"
#include "adakit/linear/rda.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::golden_min;
using linear_test::make_dataset;
using linear_test::Spec;

TEST(RdaWeight, IsTheArgminOfTheDualAveragingObjective) {
  for (double u : {-5.0, -0.2, 0.0, 0.01, 3.0})
    for (double s : {0.0, 0.04, 10.0})
      for (std::int64_t t : {1, 3, 100})
        for (double l1 : {0.0, 0.01, 0.5})
          for (double l2 : {0.0, 0.3}) {
            const double eta = 0.4, eps = 1e-10, h = eps + std::sqrt(s), td = static_cast<double>(t);
            auto f = [&](double th) {
              return eta * (u / td) * th + eta * l1 * std::abs(th) + 0.5 * eta * l2 * th * th + h / (2 * td) * th * th;
            };
            const double got = rda_weight(u, s, t, eta, eps, l1, l2);
            if (s == 0.0) {  // H = eps: the objective is nearly flat; check the formula's value only
              EXPECT_TRUE(std::isfinite(got));
              continue;
            }
            const double brute = golden_min(f, -1e3, 1e3);
            EXPECT_NEAR(got, brute, 1e-6 * (1.0 + std::abs(brute))) << u << " " << s << " " << t << " " << l1 << " " << l2;
            EXPECT_LE(f(got), f(brute) + 1e-12 * (1.0 + std::abs(f(brute))));
          }
  EXPECT_EQ(rda_weight(3.0, 1.0, 0, 0.1, 1e-10, 0.0, 0.0), 0.0);  // before the first step
}

// Eager dual averaging over every coordinate, with the paper's λ2 = 0 form written literally:
// θ = −sign(ū)(η t / H)[|ū| − λ1]_+, ū = u/t. The lazy optimizer must give the same weights.
TEST(RdaLazy, EqualsEagerDualAveragingWithThePapersClosedForm) {
  const Spec s{.dim = 2000, .informative = 40, .nnz_informative = 4, .nnz_noise = 4, .classes = 3};
  const auto d = make_dataset(s, 200, 1);
  const double eta = 0.3, eps = 1e-10, l1 = 0.01;
  LinearModel lazy = LinearModel::for_dataset(d), eager = LinearModel::for_dataset(d);
  AdagradRda opt({.lr = eta, .l1 = l1, .eps = eps});
  fit(lazy, opt, d, {.epochs = 2, .batch_size = 2, .shuffle = false});

  const std::size_t nw = eager.weights().size(), k = eager.bias().size();
  std::vector<double> u(nw), sq(nw), bu(k), bs(k);
  auto paper = [&](double ui, double si, double t, double lambda) {
    const double ubar = ui / t, mag = std::abs(ubar) - lambda;
    if (t == 0 || mag <= 0) return 0.0;
    return -(ubar < 0 ? -1.0 : 1.0) * (eta * t / (eps + std::sqrt(si))) * mag;
  };
  BatchFeatures batch;
  SparseGradient g;
  std::vector<std::int64_t> rows;
  double t = 0;
  auto set_all = [&]() {
    for (std::size_t i = 0; i < nw; ++i) eager.weights()[i] = static_cast<float>(paper(u[i], sq[i], t, l1));
    for (std::size_t c = 0; c < k; ++c) eager.bias()[c] = static_cast<float>(paper(bu[c], bs[c], t, 0.0));
  };
  for (int epoch = 0; epoch < 2; ++epoch)
    for (std::int64_t b = 0; b < d.size(); b += 2) {
      set_all();
      rows = {b, b + 1};
      batch.build(d.features, rows, eager.dim());
      eager.gradient(d, rows, batch, g);
      for (std::size_t i = 0; i < g.features.size(); ++i)
        for (std::size_t c = 0; c < k; ++c) {
          const auto j = static_cast<std::size_t>(g.features[i]) * k + c;
          u[j] += g.values[i * k + c];
          sq[j] += static_cast<double>(g.values[i * k + c]) * g.values[i * k + c];
        }
      for (std::size_t c = 0; c < k; ++c) {
        bu[c] += g.bias[c];
        bs[c] += static_cast<double>(g.bias[c]) * g.bias[c];
      }
      t += 1;
    }
  set_all();
  for (std::size_t i = 0; i < nw; ++i)
    ASSERT_NEAR(lazy.weights()[i], eager.weights()[i], 1e-5 * (1.0 + std::abs(eager.weights()[i]))) << i;
  for (std::size_t c = 0; c < k; ++c) EXPECT_NEAR(lazy.bias()[c], eager.bias()[c], 1e-5);
  EXPECT_EQ(opt.steps(), 200);
  EXPECT_GT(eager.count_nonzero_weights(), 10);
}

}  // namespace
