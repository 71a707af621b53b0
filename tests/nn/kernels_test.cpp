// nn kernels and initialisers: GEMM against a naive product, im2col/col2im adjointness, bias,
// softmax, BLAS info, init bounds and determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/nn/init.hpp"
#include "adakit/nn/kernels.hpp"
#include "gradcheck.hpp"

namespace {

using adakit::Rng;
using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;
using namespace adakit::nn;
using nn_test::random_tensor;

TEST(NnKernels, GemmAllTransposesWithStrides) {
  const std::int64_t M = 5, N = 7, K = 6, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // Stored shapes: A is M x K (or K x M when transposed), rows padded by `pad`.
      const std::int64_t a_rows = ta ? K : M, a_cols = ta ? M : K, b_rows = tb ? N : K, b_cols = tb ? K : N;
      const Tensor A = random_tensor({a_rows, a_cols + pad}, 1), B = random_tensor({b_rows, b_cols + pad}, 2);
      Tensor C = random_tensor({M, N + pad}, 3);
      const Tensor C0 = C;
      gemm(ta, tb, M, N, K, 0.5f, A.data(), a_cols + pad, B.data(), b_cols + pad, 2.0f, C.data(), N + pad);
      for (std::int64_t i = 0; i < M; ++i)
        for (std::int64_t j = 0; j < N; ++j) {
          double s = 0;
          for (std::int64_t k = 0; k < K; ++k) {
            const double a = ta ? A[k * (a_cols + pad) + i] : A[i * (a_cols + pad) + k];
            const double b = tb ? B[j * (b_cols + pad) + k] : B[k * (b_cols + pad) + j];
            s += a * b;
          }
          EXPECT_NEAR(C[i * (N + pad) + j], 0.5 * s + 2.0 * C0[i * (N + pad) + j], 1e-5);
        }
      for (std::int64_t i = 0; i < M; ++i)  // padding columns untouched
        for (std::int64_t j = N; j < N + pad; ++j) EXPECT_EQ(C[i * (N + pad) + j], C0[i * (N + pad) + j]);
    }
  Tensor C({2, 2}, 3.0f);
  gemm(false, false, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.5f, C.data(), 2);  // K = 0: C = beta C
  EXPECT_EQ(C[3], 1.5f);
}

// Large enough for gemm to split rows, columns or the inner dimension over threads.
TEST(NnKernels, GemmSplitsAreExactAndThreadIndependent) {
  struct ThreadGuard {
    ~ThreadGuard() { adakit::set_num_threads(0); }
  } guard;
  struct Case { bool ta, tb; std::int64_t M, N, K; };
  for (const Case c : {Case{false, false, 700, 40, 300}, Case{true, true, 30, 900, 200}, Case{false, true, 12, 9, 40000},
                       Case{true, false, 10, 7, 30000}}) {
    const std::int64_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
    const Tensor A = random_tensor({c.M * c.K}, 1), B = random_tensor({c.K * c.N}, 2);
    const Tensor C0 = random_tensor({c.M * c.N}, 3);
    std::vector<Tensor> results;
    for (int threads : {1, 2, 3}) {
      adakit::set_num_threads(threads);
      Tensor C = C0;
      gemm(c.ta, c.tb, c.M, c.N, c.K, 1.5f, A.data(), lda, B.data(), ldb, -1.0f, C.data(), c.N);
      results.push_back(C);
    }
    for (const Tensor& r : results) EXPECT_TRUE(std::equal(r.span().begin(), r.span().end(), results[0].span().begin()));
    for (std::int64_t i = 0; i < c.M; i += 7)
      for (std::int64_t j = 0; j < c.N; j += 5) {
        double s = 0;
        for (std::int64_t k = 0; k < c.K; ++k)
          s += static_cast<double>(c.ta ? A[k * lda + i] : A[i * lda + k]) * (c.tb ? B[j * ldb + k] : B[k * ldb + j]);
        const double expected = 1.5 * s - C0[i * c.N + j];
        ASSERT_NEAR(results[0][i * c.N + j], expected, 1e-4 * std::sqrt(static_cast<double>(c.K))) << c.M << "x" << c.N << "x" << c.K;
      }
  }
}

TEST(NnKernels, BlasInfoAndThreads) {
  struct Guard {
    ~Guard() { adakit::set_num_threads(0); }
  } guard;
  adakit::set_num_threads(1);
  sync_blas_threads();
  const std::string one = blas_info();
  EXPECT_EQ(one.rfind("OpenBLAS", 0), 0u) << one;
  EXPECT_NE(one.find("1 threads"), std::string::npos) << one;
  adakit::set_num_threads(2);
  sync_blas_threads();
  EXPECT_NE(blas_info().find("2 threads"), std::string::npos) << blas_info();
}

TEST(NnKernels, Col2imIsTheAdjointOfIm2col) {
  for (const Conv2dGeometry g : {Conv2dGeometry{2, 5, 7, 3, 2, 1}, Conv2dGeometry{3, 6, 4, 3, 1, 1},
                                 Conv2dGeometry{1, 5, 5, 2, 3, 0}, Conv2dGeometry{2, 4, 4, 5, 1, 2}}) {
    const std::int64_t image = g.channels * g.height * g.width, cols_n = g.col_rows() * g.out_plane();
    const Tensor x = random_tensor({image}, 1), c = random_tensor({cols_n}, 2);
    Tensor cx({cols_n}), xc({image});
    im2col(x.data(), g, cx.data(), g.out_plane());
    col2im(c.data(), g, g.out_plane(), xc.data());
    // <im2col(x), c> == <x, col2im(c)>
    EXPECT_NEAR(nn_test::dot(cx, c), nn_test::dot(x, xc), 1e-4);
  }
  // A hand example: 1 channel 3x3, kernel 2, stride 1, padding 0 -> 4 rows of 4.
  const Tensor x = Tensor::from({9}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor cols({16});
  im2col(x.data(), Conv2dGeometry{1, 3, 3, 2, 1, 0}, cols.data(), 4);
  const float expected[] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(cols[i], expected[i]);
}

TEST(NnKernels, BiasAndSoftmax) {
  Tensor y({3, 2}, 1.0f);
  const float bias[] = {0.5f, -1.0f};
  bias_add_rows(y.data(), bias, 3, 2);
  EXPECT_EQ(y[0], 1.5f);
  EXPECT_EQ(y[5], 0.0f);
  float db[2] = {1, 1};
  bias_grad_rows(y.data(), 3, 2, db);
  EXPECT_FLOAT_EQ(db[0], 1 + 4.5f);
  EXPECT_FLOAT_EQ(db[1], 1);
  Tensor planes({2, 2, 3}, 1.0f);
  bias_add_planes(planes.data(), bias, 2, 2, 3);
  EXPECT_EQ(planes[3], 0.0f);
  EXPECT_EQ(planes[6], 1.5f);
  float dbp[2] = {0, 0};
  bias_grad_planes(planes.data(), 2, 2, 3, dbp);
  EXPECT_FLOAT_EQ(dbp[0], 9.0f);
  EXPECT_FLOAT_EQ(dbp[1], 0.0f);

  const Tensor z = Tensor::from({2, 3}, {1, 2, 3, 1000, 0, -1000});
  Tensor p({2, 3}), lp({2, 3});
  softmax_rows(z.data(), 2, 3, p.data());
  log_softmax_rows(z.data(), 2, 3, lp.data());
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0f, 1e-6);
  EXPECT_NEAR(p[3], 1.0f, 1e-6);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::isfinite(lp[i]) || i == 5);
  EXPECT_NEAR(lp[2], 3 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
}

TEST(NnInit, FansGainAndBounds) {
  const Fans f = compute_fans({16, 3, 3, 3});
  EXPECT_EQ(f.fan_in, 27);
  EXPECT_EQ(f.fan_out, 144);
  EXPECT_THROW((void)compute_fans({5}), UsageError);
  EXPECT_DOUBLE_EQ(gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(gain("sigmoid"), 1.0);
  EXPECT_THROW((void)gain("swish"), UsageError);

  Rng rng(1);
  Tensor w({200, 100}), b({200});
  torch_default(w, &b, rng);
  const float bound = 1.0f / std::sqrt(100.0f);
  float wmax = 0, bmax = 0;
  for (float v : w.span()) wmax = std::max(wmax, std::abs(v));
  for (float v : b.span()) bmax = std::max(bmax, std::abs(v));
  EXPECT_LE(wmax, bound);
  EXPECT_GT(wmax, 0.95f * bound);
  EXPECT_LE(bmax, bound);

  auto stddev = [](const Tensor& t) {
    double s = 0, s2 = 0;
    for (float v : t.span()) s += v, s2 += static_cast<double>(v) * v;
    const double n = static_cast<double>(t.numel());
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  kaiming_normal(w, rng);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 100.0), 0.01);
  xavier_normal(w, rng);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 300.0), 0.005);
  kaiming_uniform(w, rng);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0) * std::sqrt(3.0 / 100.0) / std::sqrt(3.0), 0.01);
  xavier_uniform(w, rng);
  for (float v : w.span()) EXPECT_LE(std::abs(v), std::sqrt(6.0 / 300.0));
  zeros(w);
  EXPECT_EQ(stddev(w), 0.0);

  for (auto name : init_names()) EXPECT_EQ(init_name(parse_init(name)), name);
  EXPECT_THROW((void)parse_init("orthogonal"), UsageError);
}

TEST(NnInit, SameSeedSameWeights) {
  Tensor a({8, 5}), b({8, 5}), c({8, 5});
  Rng ra(3), rb(3), rc(4);
  initialize(Init::kaiming_uniform, a, nullptr, ra);
  initialize(Init::kaiming_uniform, b, nullptr, rb);
  initialize(Init::kaiming_uniform, c, nullptr, rc);
  EXPECT_TRUE(std::equal(a.span().begin(), a.span().end(), b.span().begin()));
  EXPECT_FALSE(std::equal(a.span().begin(), a.span().end(), c.span().begin()));
}

}  // namespace
