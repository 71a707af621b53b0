// FTRL-Proximal against a direct transcription of McMahan et al. 2013, Algorithm 1, and its kernels
// against their formulas. (Sparsity and option checks: the linear suite, suite_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/linear/fit.hpp"
#include "adakit/linear/ftrl.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;

// Algorithm 1 ("Per-Coordinate FTRL-Proximal with L1 and L2 Regularization for Logistic
// Regression"), one example at a time, in double, written as in the paper.
struct Algorithm1 {
  double alpha, beta, l1, l2;
  std::vector<double> z, n;
  Algorithm1(double a, double b, double r1, double r2, std::int64_t dim)
      : alpha(a), beta(b), l1(r1), l2(r2), z(static_cast<std::size_t>(dim)), n(static_cast<std::size_t>(dim)) {}
  double weight(std::size_t i) const {
    if (std::abs(z[i]) <= l1) return 0.0;
    const double sgn = z[i] < 0 ? -1.0 : 1.0;
    return -1.0 / ((beta + std::sqrt(n[i])) / alpha + l2) * (z[i] - sgn * l1);
  }
  void example(std::span<const std::int32_t> idx, std::span<const float> x, int y) {
    std::vector<double> w(idx.size());
    double dot = 0;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      w[k] = weight(static_cast<std::size_t>(idx[k]));
      dot += x[k] * w[k];
    }
    const double p = 1.0 / (1.0 + std::exp(-dot));
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const auto i = static_cast<std::size_t>(idx[k]);
      const double g = (p - y) * x[k];
      const double sigma = (std::sqrt(n[i] + g * g) - std::sqrt(n[i])) / alpha;
      z[i] += g - sigma * w[k];
      n[i] += g * g;
    }
  }
};

TEST(FtrlProximal, EqualsADirectTranscriptionOfAlgorithm1) {
  const Spec s{.dim = 3000, .informative = 40, .nnz_informative = 4, .nnz_noise = 6};
  const auto d = make_dataset(s, 400, 1);
  for (const auto& [l1, l2] : {std::pair{0.0, 0.0}, std::pair{0.5, 0.0}, std::pair{1.0, 2.0}}) {
    Algorithm1 ref(0.2, 1.0, l1, l2, s.dim);
    for (int epoch = 0; epoch < 2; ++epoch)
      for (std::int64_t r = 0; r < d.size(); ++r)
        ref.example(d.features.row_indices(r), d.features.row_values(r), d.labels[static_cast<std::size_t>(r)]);
    LinearModel m(LinearTask::logistic, s.dim, 2, /*fit_bias=*/false);
    Ftrl opt({.alpha = 0.2, .beta = 1.0, .l1 = l1, .l2 = l2});
    fit(m, opt, d, {.epochs = 2, .batch_size = 1, .shuffle = false});
    std::int64_t ref_nonzero = 0;
    const std::vector<float> z = opt.z(m), n = opt.n(m);
    for (std::int64_t i = 0; i < s.dim; ++i) {
      const double want = ref.weight(static_cast<std::size_t>(i));
      ref_nonzero += want != 0.0;
      ASSERT_NEAR(m.weights()[static_cast<std::size_t>(i)], want, 1e-5 * (1.0 + std::abs(want)))
          << "feature " << i << " l1 " << l1;
      EXPECT_NEAR(z[static_cast<std::size_t>(i)], ref.z[static_cast<std::size_t>(i)], 1e-4);
      EXPECT_NEAR(n[static_cast<std::size_t>(i)], ref.n[static_cast<std::size_t>(i)], 1e-4);
    }
    EXPECT_NEAR(static_cast<double>(m.count_nonzero_weights()), static_cast<double>(ref_nonzero), 2.0);
    EXPECT_EQ(m.bias()[0], 0.0f);
    EXPECT_GT(ref_nonzero, 10);
  }
}

TEST(FtrlProximal, KernelsFollowTheirFormulas) {
  EXPECT_EQ(ftrl_weight(0.9, 4.0, 0.1, 1.0, 1.0, 0.0), 0.0);   // |z| <= l1
  EXPECT_EQ(ftrl_weight(-1.0, 4.0, 0.1, 1.0, 1.0, 0.0), 0.0);  // boundary: still 0
  EXPECT_DOUBLE_EQ(ftrl_weight(3.0, 4.0, 0.1, 1.0, 1.0, 2.0), -(3.0 - 1.0) / ((1.0 + 2.0) / 0.1 + 2.0));
  EXPECT_DOUBLE_EQ(ftrl_weight(-3.0, 4.0, 0.1, 1.0, 1.0, 2.0), (3.0 - 1.0) / ((1.0 + 2.0) / 0.1 + 2.0));
  float z = 0.5f, n = 4.0f;
  ftrl_update(z, n, 0.25f, 0.5f, 0.1);
  EXPECT_FLOAT_EQ(n, 4.25f);
  EXPECT_FLOAT_EQ(z, static_cast<float>(0.5 + 0.5 - (std::sqrt(4.25) - 2.0) / 0.1 * 0.25));
}

}  // namespace
