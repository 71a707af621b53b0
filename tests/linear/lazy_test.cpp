// Laziness is exact: lazy AdaGrad equals the dense optim::adagrad_step trajectory bit for bit;
// the closed-form catch-up of adagrad-l1 and sgd equals applying every missed proximal step eagerly.
// (That the work per example does not depend on the model's dimension: the linear suite, suite_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/prox.hpp"
#include "adakit/optim/adagrad.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;

// Runs `epochs` passes over d in row order, batch by batch, calling step_fn(model, grad, t) with the
// gradient scattered densely (dim x outputs, zeros for features not in the batch) and its bias.
template <class StepFn>
void eager_loop(LinearModel& m, const data::SparseDataset& d, std::int64_t epochs, std::int64_t batch_size,
                StepFn step_fn) {
  BatchFeatures batch;
  SparseGradient g;
  std::vector<float> dense(m.weights().size());
  std::vector<std::int64_t> rows;
  std::int64_t t = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t b = 0; b < d.size(); b += batch_size) {
      rows.clear();
      for (std::int64_t r = b; r < std::min(d.size(), b + batch_size); ++r) rows.push_back(r);
      batch.build(d.features, rows, m.dim());
      m.gradient(d, rows, batch, g);
      std::fill(dense.begin(), dense.end(), 0.0f);
      for (std::size_t i = 0; i < g.features.size(); ++i)
        for (std::int64_t c = 0; c < m.outputs(); ++c)
          dense[static_cast<std::size_t>(g.features[i] * m.outputs() + c)] =
              g.values[i * static_cast<std::size_t>(m.outputs()) + static_cast<std::size_t>(c)];
      step_fn(m, std::span<const float>(dense), std::span<const float>(g.bias), ++t);
    }
  }
}

TEST(LazyAdagrad, EqualsTheDenseAdagradStepTrajectoryBitForBit) {
  for (const int classes : {2, 3}) {
    const Spec s{.dim = 3000, .informative = 30, .nnz_informative = 4, .nnz_noise = 6, .classes = classes};
    const auto d = make_dataset(s, 300, 1);
    const optim::AdagradOptions o{.lr = 0.3, .lr_decay = 0.01, .initial_accumulator_value = 0.1};
    LinearModel lazy = LinearModel::for_dataset(d);
    LinearModel dense = LinearModel::for_dataset(d);
    LazyAdagrad opt(o);
    fit(lazy, opt, d, {.epochs = 2, .batch_size = 4, .shuffle = false});

    std::vector<float> sum(dense.weights().size(), 0.1f), bias_sum(dense.bias().size(), 0.1f);
    eager_loop(dense, d, 2, 4, [&](LinearModel& m, std::span<const float> g, std::span<const float> gb, std::int64_t t) {
      optim::adagrad_step(m.table(), g, sum, o, t);  // no optimizer bound to m: its table is W alone
      optim::adagrad_step(m.bias(), gb, bias_sum, o, t);
    });
    EXPECT_TRUE(std::equal(lazy.weights().begin(), lazy.weights().end(), dense.weights().begin())) << classes;
    EXPECT_TRUE(std::equal(lazy.bias().begin(), lazy.bias().end(), dense.bias().begin())) << classes;
    EXPECT_EQ(dense.row_stride(), dense.outputs());
    EXPECT_EQ(opt.sum(lazy), sum) << classes;
    EXPECT_GT(lazy.count_nonzero_weights(), 100);
    // Lazy touched far fewer coordinates than the dense steps did.
    EXPECT_LT(opt.coordinates_touched(), opt.steps() * lazy.dim() * lazy.outputs() / 20);
  }
}

// Eager composite mirror descent: every coordinate steps at every step (g = 0 where the batch has no
// such feature: a pure proximal step), in double. The lazy version (float state, k missed steps at
// once in closed form) must land on the same weights.
TEST(LazyProx, AdagradL1CatchUpEqualsEagerCompositeMirrorDescent) {
  for (const int classes : {2, 3}) {
    for (const auto& [l1, l2] : {std::pair{0.002, 0.0}, std::pair{0.002, 0.05}, std::pair{0.0, 0.1}}) {
      const Spec s{.dim = 2000, .informative = 40, .nnz_informative = 4, .nnz_noise = 4, .classes = classes};
      const auto d = make_dataset(s, 200, 1);
      const AdagradL1Options o{.lr = 0.2, .l1 = l1, .l2 = l2};
      LinearModel lazy = LinearModel::for_dataset(d), eager = LinearModel::for_dataset(d);
      AdagradL1 opt(o);
      fit(lazy, opt, d, {.epochs = 2, .batch_size = 2, .shuffle = false});
      const std::size_t nw = eager.weights().size(), nb = eager.bias().size();
      std::vector<double> w(nw), sum(nw), b(nb), bias_sum(nb);
      auto step = [&](double& theta, double& s2, double g, double r1, double r2) {
        s2 += g * g;
        const double eta_over_h = o.lr / (o.eps + std::sqrt(s2));
        theta = prox_l1_l2(theta - eta_over_h * g, eta_over_h, r1, r2);
      };
      eager_loop(eager, d, 2, 2, [&](LinearModel& m, std::span<const float> g, std::span<const float> gb, std::int64_t) {
        for (std::size_t i = 0; i < nw; ++i) step(w[i], sum[i], g[i], o.l1, o.l2);
        for (std::size_t c = 0; c < nb; ++c) step(b[c], bias_sum[c], gb[c], 0, 0);
        for (std::size_t i = 0; i < nw; ++i) m.weights()[i] = static_cast<float>(w[i]);
        for (std::size_t c = 0; c < nb; ++c) m.bias()[c] = static_cast<float>(b[c]);
      });
      double worst = 0;
      for (std::size_t i = 0; i < nw; ++i) worst = std::max(worst, std::abs(lazy.weights()[i] - w[i]));
      EXPECT_LE(worst, 1e-6) << "classes " << classes << " l1 " << l1 << " l2 " << l2;
      for (std::size_t c = 0; c < nb; ++c) EXPECT_NEAR(lazy.bias()[c], b[c], 1e-6);
      EXPECT_GT(eager.count_nonzero_weights(), 20);
      EXPECT_EQ(lazy.count_nonzero_weights(), eager.count_nonzero_weights());
    }
  }
}

TEST(LazyProx, SgdCatchUpEqualsEagerProximalSgd) {
  const Spec s{.dim = 2000, .informative = 40, .nnz_informative = 4, .nnz_noise = 4};
  const auto d = make_dataset(s, 200, 1);
  const LazySgdOptions o{.lr = 0.3, .l1 = 0.001, .l2 = 0.05};
  LinearModel lazy = LinearModel::for_dataset(d), eager = LinearModel::for_dataset(d);
  LazySgd opt(o);
  fit(lazy, opt, d, {.epochs = 2, .batch_size = 2, .shuffle = false});
  std::vector<double> w(eager.weights().size());
  double b = 0;
  eager_loop(eager, d, 2, 2, [&](LinearModel& m, std::span<const float> g, std::span<const float> gb, std::int64_t) {
    for (std::size_t i = 0; i < g.size(); ++i) {
      w[i] = prox_l1_l2(w[i] - o.lr * g[i], o.lr, o.l1, o.l2);
      m.weights()[i] = static_cast<float>(w[i]);
    }
    b -= o.lr * gb[0];
    m.bias()[0] = static_cast<float>(b);
  });
  for (std::size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(lazy.weights()[i], w[i], 1e-6) << "coordinate " << i;
  EXPECT_NEAR(lazy.bias()[0], b, 1e-6);
  EXPECT_GT(eager.count_nonzero_weights(), 20);
  EXPECT_EQ(lazy.count_nonzero_weights(), eager.count_nonzero_weights());
}

}  // namespace
