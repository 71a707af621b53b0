// The AdaGrad family beyond the diagonal (adagrad-norm, adagrad-full, sm3, shampoo, adafactor):
// each against a hand-worked or float64 reference written here from the papers, option validation,
// state dicts, and memory accounting. The table-driven checks (first steps, convergence, reset,
// save/load/continue, thread counts) are in suite_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/adafactor.hpp"
#include "adakit/optim/adagrad_full.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/optim/shampoo.hpp"
#include "jacobi.hpp"

namespace {

using adakit::Parameter;
using adakit::Shape;
using adakit::Tensor;
using adakit::optim::OptionMap;
using adakit::optim::Optimizer;
using adakit_test::Matrix;

std::unique_ptr<Optimizer> make(const std::string& name, std::vector<Parameter*> ps, const OptionMap& o) {
  return adakit::optim::make_optimizer(name, std::move(ps), o);
}

void set_grad(Parameter& p, const std::vector<double>& g) {
  for (std::size_t i = 0; i < g.size(); ++i) p.grad()[static_cast<std::int64_t>(i)] = static_cast<float>(g[i]);
}

// Gradients as float, then back to double: the references see exactly what the kernels see.
std::vector<double> float_grads(adakit::Rng& rng, std::size_t n, double scale = 1.0) {
  std::vector<double> g(n);
  for (auto& v : g) v = static_cast<double>(static_cast<float>(scale * rng.normal()));
  return g;
}

void expect_close(const Parameter& p, const std::vector<double>& ref, double tol, const std::string& where) {
  ASSERT_EQ(static_cast<std::size_t>(p.numel()), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double got = p.value()[static_cast<std::int64_t>(i)];
    EXPECT_LE(std::abs(got - ref[i]), tol * std::max(1.0, std::abs(ref[i])))
        << where << " element " << i << ": adakit " << got << ", reference " << ref[i];
  }
}

std::vector<double> values(const Parameter& p) {
  std::vector<double> v;
  for (float x : p.value().span()) v.push_back(x);
  return v;
}

// ---------------------------------------------------------------- the test's own eigen-solver

TEST(JacobiReference, DiagonalisesASymmetricMatrix) {
  const Matrix a{{4, 1, 0.5, 0}, {1, 3, 0.2, -1}, {0.5, 0.2, 2, 0.3}, {0, -1, 0.3, 1}};
  std::vector<double> w;
  Matrix v;
  adakit_test::jacobi_eigen(a, w, v);
  double trace = 0;
  for (std::size_t i = 0; i < 4; ++i) trace += a[i][i];
  EXPECT_NEAR(w[0] + w[1] + w[2] + w[3], trace, 1e-12);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      double r = 0, o = 0;
      for (std::size_t k = 0; k < 4; ++k) {
        r += v[i][k] * w[k] * v[j][k];
        o += v[k][i] * v[k][j];
      }
      EXPECT_NEAR(r, a[i][j], 1e-12);
      EXPECT_NEAR(o, i == j ? 1.0 : 0.0, 1e-12);
    }
  // a^(-1/2) squared times a is the identity.
  const Matrix s = adakit_test::symmetric_function(a, [](double l) { return 1.0 / std::sqrt(l); });
  const Matrix id = adakit_test::matmul(adakit_test::matmul(s, s), a);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(id[i][j], i == j ? 1.0 : 0.0, 1e-10);
}

// ---------------------------------------------------------------- AdaGrad-Norm

TEST(AdagradNorm, ScalarClosedForm) {
  // b² = b0² + Σ g², θ -= lr g / b: by hand, b0 = 0.5, lr = 0.3, g = 2, -1, 0.5.
  Parameter p("w", Tensor::from({1}, {1.0f}));
  auto opt = make("adagrad-norm", {&p}, {{"lr", "0.3"}, {"b0", "0.5"}});
  double theta = 1.0, b2 = 0.25;
  for (double g : {2.0, -1.0, 0.5}) {
    set_grad(p, {g});
    opt->step();
    b2 += g * g;
    theta -= 0.3 * g / std::sqrt(b2);
    EXPECT_NEAR(p.value()[0], theta, 1e-6);
  }
  EXPECT_NEAR(theta, 1.0 - 0.6 / std::sqrt(4.25) + 0.3 / std::sqrt(5.25) - 0.15 / std::sqrt(5.5), 1e-15);
  EXPECT_NEAR(opt->state(p)->buffer("sum_sq")->span()[0], 5.5, 1e-6);
}

TEST(AdagradNorm, PerTensorAndGlobalModes) {
  // Two tensors: per tensor each has its own b; global: one b from both gradients.
  const std::vector<double> ga{3.0, 4.0}, gb{1.0};  // ‖ga‖ = 5, ‖gb‖ = 1
  for (bool global : {false, true}) {
    Parameter a("a", Tensor({2}, 0.0f)), b("b", Tensor({1}, 0.0f));
    auto opt = make("adagrad-norm", {&a, &b}, {{"lr", "1"}, {"b0", "0"}, {"global", global ? "true" : "false"}});
    set_grad(a, ga);
    set_grad(b, gb);
    opt->step();
    const double ba = global ? std::sqrt(26.0) : 5.0, bb = global ? std::sqrt(26.0) : 1.0;
    EXPECT_NEAR(a.value()[0], -3.0 / ba, 1e-6);
    EXPECT_NEAR(a.value()[1], -4.0 / ba, 1e-6);
    EXPECT_NEAR(b.value()[0], -1.0 / bb, 1e-6);
    if (global) {
      EXPECT_NEAR(opt->group_state(0).at("sum_sq")[0], 26.0f, 1e-5);
      EXPECT_TRUE(opt->state(a)->buffers.empty());
    } else {
      EXPECT_TRUE(opt->group_state(0).empty());
      EXPECT_NEAR(opt->state(b)->buffer("sum_sq")->span()[0], 1.0f, 1e-6);
    }
  }
  // b0 = 0 and a zero gradient: no update, no NaN.
  Parameter z("z", Tensor({3}, 1.0f));
  auto opt = make("adagrad-norm", {&z}, {{"b0", "0"}});
  opt->step();
  for (float v : z.value().span()) EXPECT_EQ(v, 1.0f);
}

// ---------------------------------------------------------------- full-matrix AdaGrad

// f = ½ xᵀ A x - cᵀ x in 3 dimensions, not axis-aligned.
const Matrix kA{{4.0, 1.0, 0.5}, {1.0, 3.0, 0.2}, {0.5, 0.2, 2.0}};
const std::vector<double> kC{1.0, -2.0, 0.5};

std::vector<double> quad_grad(const std::vector<double>& x) {
  auto g = adakit_test::matvec(kA, x);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(static_cast<float>(g[i] - kC[i]));
  return g;
}

// Duchi et al.'s full-matrix step per block, from adagrad_full.hpp, in double with Jacobi.
class FullMatrixReference {
 public:
  FullMatrixReference(std::size_t n, std::size_t block, double lr, double eps, bool inside, int every)
      : lr_(lr), eps_(eps), inside_(inside), every_(every) {
    for (std::size_t b = 0; b < n; b += block) blocks_.push_back({b, std::min(block, n - b)});
    for (const auto& [s, len] : blocks_) {
      G_.push_back(adakit_test::zeros(len, len));
      P_.push_back(adakit_test::zeros(len, len));
    }
  }
  void step(std::vector<double>& x, const std::vector<double>& g) {
    ++t_;
    const bool refresh = (t_ - 1) % every_ == 0;
    for (std::size_t k = 0; k < blocks_.size(); ++k) {
      const auto [s, len] = blocks_[k];
      const std::vector<double> gb(g.begin() + static_cast<std::ptrdiff_t>(s), g.begin() + static_cast<std::ptrdiff_t>(s + len));
      adakit_test::add_outer(G_[k], gb);
      if (refresh)
        P_[k] = adakit_test::symmetric_function(G_[k], [&](double l) {
          return inside_ ? 1.0 / std::sqrt(l + eps_) : 1.0 / (std::sqrt(l) + eps_);
        });
      auto u = adakit_test::matvec(P_[k], gb);
      double un = 0;
      for (double v : u) un += v * v;
      if (!refresh && un > 1.0)
        for (auto& v : u) v /= std::sqrt(un);
      for (std::size_t i = 0; i < len; ++i) x[s + i] -= lr_ * u[i];
    }
  }

 private:
  double lr_, eps_;
  bool inside_;
  int every_;
  std::int64_t t_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> blocks_;
  std::vector<Matrix> G_, P_;
};

TEST(AdagradFull, MatchesAJacobiReferenceOnA3dQuadratic) {
  struct Case {
    const char* eps_mode;
    double eps;
    int every, block;
  };
  for (const Case c : {Case{"outside", 1e-10, 1, 3}, Case{"inside", 1e-3, 1, 3}, Case{"outside", 0.1, 3, 3},
                       Case{"inside", 1e-6, 2, 2}}) {
    SCOPED_TRACE(std::string(c.eps_mode) + " eps " + std::to_string(c.eps) + " every " + std::to_string(c.every) +
                 " block " + std::to_string(c.block));
    Parameter p("x", Tensor({3}, 0.0f));
    auto opt = make("adagrad-full", {&p},
                    {{"lr", "0.5"}, {"eps", adakit::optim::format_double(c.eps)}, {"eps_mode", c.eps_mode},
                     {"precondition_every", std::to_string(c.every)}, {"block_size", std::to_string(c.block)}});
    FullMatrixReference ref(3, static_cast<std::size_t>(c.block), 0.5, c.eps, c.eps_mode == std::string("inside"), c.every);
    std::vector<double> x(3, 0.0);
    for (int s = 1; s <= 25; ++s) {
      const auto g = quad_grad(values(p));  // both take the same (float) gradient
      set_grad(p, g);
      opt->step();
      ref.step(x, g);
      expect_close(p, x, 2e-6, "step " + std::to_string(s));
      x = values(p);  // follow adakit's float trajectory: compare steps, not accumulated rounding
    }
    // It minimises: the gradient at the end is small.
    double gn = 0;
    for (double v : quad_grad(values(p))) gn += v * v;
    EXPECT_LT(std::sqrt(gn), 0.05);
  }
}

TEST(AdagradFull, BlockSizeOneIsDiagonalAdagrad) {
  Parameter a("w", Tensor({6}, 0.5f)), b("w", Tensor({6}, 0.5f));
  auto full = make("adagrad-full", {&a}, {{"lr", "0.1"}, {"block_size", "1"}});
  auto diag = make("adagrad", {&b}, {{"lr", "0.1"}});
  adakit::Rng rng(5);
  for (int s = 0; s < 20; ++s) {
    const auto g = float_grads(rng, 6);
    set_grad(a, g);
    set_grad(b, g);
    full->step();
    diag->step();
  }
  expect_close(a, values(b), 1e-6, "block_size 1 vs adagrad");
}

// ---------------------------------------------------------------- SM3

TEST(Sm3, OnAVectorIsDiagonalAdagrad) {
  // Each cover set of a vector is one coordinate: ν = μ + g², μ = ν, exactly AdaGrad without eps.
  Parameter a("w", Tensor({7}, 0.25f)), b("w", Tensor({7}, 0.25f));
  auto sm3 = make("sm3", {&a}, {{"lr", "0.1"}});
  auto ada = make("adagrad", {&b}, {{"lr", "0.1"}, {"eps", "0"}, {"zero_update_where_sum_zero", "true"}});
  adakit::Rng rng(9);
  for (int s = 0; s < 30; ++s) {
    auto g = float_grads(rng, 7);
    g[3] = 0.0;  // a coordinate that never has a gradient stays put (0/0 is 0, as Optax's AdaGrad)
    set_grad(a, g);
    set_grad(b, g);
    sm3->step();
    ada->step();
  }
  expect_close(a, values(b), 1e-6, "sm3 vs adagrad");
  EXPECT_EQ(a.value()[3], 0.25f);
  EXPECT_EQ(sm3->state(a)->buffer("acc_0")->numel(), 7);
}

// SM3-II over an explicit cover (a list of index sets), in double: the paper's Algorithm 3 as written.
class Sm3Reference {
 public:
  Sm3Reference(const Shape& shape, double lr, double momentum) : lr_(lr), beta_(momentum) {
    const auto n = static_cast<std::size_t>(adakit::shape_numel(shape));
    std::vector<std::int64_t> stride(shape.size(), 1);
    for (std::size_t a = shape.size() - 1; a > 0; --a) stride[a - 1] = stride[a] * shape[a];
    for (std::size_t a = 0; a < shape.size(); ++a)  // the slices along every axis
      for (std::int64_t i = 0; i < shape[a]; ++i) {
        std::vector<std::size_t> set;
        for (std::size_t e = 0; e < n; ++e)
          if ((static_cast<std::int64_t>(e) / stride[a]) % shape[a] == i) set.push_back(e);
        cover_.push_back(set);
      }
    mu_.assign(cover_.size(), 0.0);
    m_.assign(n, 0.0);
  }
  void step(std::vector<double>& x, const std::vector<double>& g) {
    std::vector<double> nu(x.size(), INFINITY);
    for (std::size_t r = 0; r < cover_.size(); ++r)
      for (auto e : cover_[r]) nu[e] = std::min(nu[e], mu_[r]);
    for (std::size_t e = 0; e < x.size(); ++e) nu[e] += g[e] * g[e];
    for (std::size_t r = 0; r < cover_.size(); ++r) {
      mu_[r] = 0;
      for (auto e : cover_[r]) mu_[r] = std::max(mu_[r], nu[e]);
    }
    for (std::size_t e = 0; e < x.size(); ++e) {
      double u = nu[e] > 0 ? g[e] / std::sqrt(nu[e]) : 0.0;
      if (beta_ > 0) u = m_[e] = beta_ * m_[e] + (1 - beta_) * u;
      x[e] -= lr_ * u;
    }
  }

 private:
  double lr_, beta_;
  std::vector<std::vector<std::size_t>> cover_;
  std::vector<double> mu_, m_;
};

TEST(Sm3, MatchesTheGeneralCoverReference) {
  for (const Shape& shape : {Shape{3, 4}, Shape{2, 3, 4}, Shape{5}}) {
    for (double momentum : {0.0, 0.9}) {
      SCOPED_TRACE(adakit::shape_to_string(shape) + " momentum " + std::to_string(momentum));
      Parameter p("w", Tensor(shape, 0.0f));
      auto opt = make("sm3", {&p}, {{"lr", "0.05"}, {"momentum", adakit::optim::format_double(momentum)}});
      Sm3Reference ref(shape, 0.05, momentum);
      std::vector<double> x(static_cast<std::size_t>(p.numel()), 0.0);
      adakit::Rng rng(17);
      for (int s = 1; s <= 12; ++s) {
        // Row-dependent scales, so that the min over covers really picks different sets.
        auto g = float_grads(rng, x.size());
        for (std::size_t e = 0; e < g.size(); ++e) g[e] = static_cast<double>(static_cast<float>(g[e] * (1.0 + static_cast<double>(e % 3))));
        set_grad(p, g);
        opt->step();
        ref.step(x, g);
        expect_close(p, x, 1e-6, "step " + std::to_string(s));
        x = values(p);
      }
      // O(Σ d) accumulators, one per axis.
      const auto* st = opt->state(p);
      std::int64_t acc = 0;
      for (std::size_t a = 0; a < shape.size(); ++a) acc += st->buffer("acc_" + std::to_string(a))->numel();
      std::int64_t sum_dims = 0;
      for (auto d : shape) sum_dims += d;
      EXPECT_EQ(acc, sum_dims);
      EXPECT_EQ(st->buffer("momentum_buffer") != nullptr, momentum > 0);
    }
  }
}

// ---------------------------------------------------------------- Shampoo

TEST(Shampoo, OneByNMatrixReducesToTheClosedForm) {
  // Gupta et al., Algorithm 1 with m = 1: L is the scalar ε + Σ‖g‖², so
  //   W -= η (ε + Σ ‖g_s‖²)^(-1/4) · g (εI + Σ g_sᵀ g_s)^(-1/4)
  // (with ε on every eigenvalue; the flat directions never get a component).
  const std::size_t n = 5;
  const double lr = 0.1, eps = 1e-4;
  Parameter p("w", Tensor({1, static_cast<std::int64_t>(n)}, 0.0f));
  auto opt = make("shampoo", {&p}, {{"lr", "0.1"}, {"eps", "1e-4"}, {"graft", "false"}});
  double l = 0;
  Matrix r = adakit_test::zeros(n, n);
  std::vector<double> x(n, 0.0);
  adakit::Rng rng(21);
  for (int s = 1; s <= 8; ++s) {
    const auto g = float_grads(rng, n);
    set_grad(p, g);
    opt->step();
    for (double v : g) l += v * v;
    adakit_test::add_outer(r, g);
    const Matrix rroot = adakit_test::symmetric_function(r, [&](double v) { return std::pow(v + eps, -0.25); });
    const auto gr = adakit_test::matvec(rroot, g);  // R^-1/4 symmetric: g R^-1/4 = (R^-1/4 g)ᵀ
    for (std::size_t i = 0; i < n; ++i) x[i] -= lr * std::pow(l + eps, -0.25) * gr[i];
    expect_close(p, x, 2e-6, "step " + std::to_string(s));
    x = values(p);
  }
  EXPECT_EQ(opt->state(p)->buffer("L")->numel(), 1);
  EXPECT_EQ(opt->state(p)->buffer("R")->numel(), 25);
}

// Blocked Shampoo with grafting, per tile, from shampoo.hpp.
TEST(Shampoo, BlockedMatrixWithGraftingMatchesAReference) {
  const std::int64_t rows = 5, cols = 3, B = 2;
  const double lr = 0.05, eps = 1e-3, geps = 1e-10;
  Parameter p("w", Tensor({rows, cols}, 0.0f));
  auto opt = make("shampoo", {&p}, {{"lr", "0.05"}, {"eps", "1e-3"}, {"block_size", "2"}, {"precondition_every", "2"}});
  struct Tile {
    std::int64_t r0, c0, m, n;
    Matrix L, R, Lr, Rr;
  };
  std::vector<Tile> tiles;
  for (std::int64_t r0 = 0; r0 < rows; r0 += B)
    for (std::int64_t c0 = 0; c0 < cols; c0 += B) {
      const auto m = std::min(B, rows - r0), n = std::min(B, cols - c0);
      tiles.push_back({r0, c0, m, n, adakit_test::zeros(static_cast<std::size_t>(m), static_cast<std::size_t>(m)),
                       adakit_test::zeros(static_cast<std::size_t>(n), static_cast<std::size_t>(n)), {}, {}});
    }
  ASSERT_EQ(tiles.size(), 6u);
  std::vector<double> x(static_cast<std::size_t>(rows * cols), 0.0), s2(x.size(), 0.0);
  adakit::Rng rng(33);
  for (int t = 1; t <= 6; ++t) {
    const auto g = float_grads(rng, x.size());
    set_grad(p, g);
    opt->step();
    for (auto& tile : tiles) {
      const auto m = static_cast<std::size_t>(tile.m), n = static_cast<std::size_t>(tile.n);
      Matrix G = adakit_test::zeros(m, n), Gt = adakit_test::zeros(n, m);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
          G[i][j] = Gt[j][i] = g[static_cast<std::size_t>((tile.r0 + static_cast<std::int64_t>(i)) * cols + tile.c0) + j];
      const Matrix GGt = adakit_test::matmul(G, Gt), GtG = adakit_test::matmul(Gt, G);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j) tile.L[i][j] += GGt[i][j];
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) tile.R[i][j] += GtG[i][j];
      if ((t - 1) % 2 == 0) {
        tile.Lr = adakit_test::symmetric_function(tile.L, [&](double v) { return std::pow(v + eps, -0.25); });
        tile.Rr = adakit_test::symmetric_function(tile.R, [&](double v) { return std::pow(v + eps, -0.25); });
      }
      const Matrix D = adakit_test::matmul(adakit_test::matmul(tile.Lr, G), tile.Rr);
      double graft = 0, dn = 0;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const auto e = static_cast<std::size_t>((tile.r0 + static_cast<std::int64_t>(i)) * cols + tile.c0) + j;
          s2[e] += g[e] * g[e];
          const double a = g[e] / (std::sqrt(s2[e]) + geps);
          graft += a * a;
          dn += D[i][j] * D[i][j];
        }
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const auto e = static_cast<std::size_t>((tile.r0 + static_cast<std::int64_t>(i)) * cols + tile.c0) + j;
          x[e] -= lr * D[i][j] * std::sqrt(graft / dn);
        }
    }
    expect_close(p, x, 2e-6, "step " + std::to_string(t));
    x = values(p);
  }
}

TEST(Shampoo, OnAVectorIsFullMatrixAdagradWithEpsInside) {
  // The paper's order-1 case: L += g gᵀ, D = (L + εI)^(-1/2) g.
  Parameter a("w", Tensor({6}, 0.0f)), b("w", Tensor({6}, 0.0f));
  auto sh = make("shampoo", {&a}, {{"lr", "0.2"}, {"eps", "1e-3"}, {"graft", "false"}});
  auto fm = make("adagrad-full", {&b}, {{"lr", "0.2"}, {"eps", "1e-3"}, {"eps_mode", "inside"}});
  adakit::Rng rng(4);
  for (int s = 0; s < 15; ++s) {
    const auto g = float_grads(rng, 6);
    set_grad(a, g);
    set_grad(b, g);
    sh->step();
    fm->step();
  }
  expect_close(a, values(b), 1e-5, "shampoo vector vs adagrad-full");
}

// ---------------------------------------------------------------- Adafactor

// Shazeer & Stern's Algorithms 4/5 with Optax's defaults, re-implemented in double over multi-indices:
// the factored statistics are keyed by the multi-index without one of the two factored axes.
class AdafactorReference {
 public:
  AdafactorReference(Shape shape, OptionMap o, bool factored, std::size_t lo, std::size_t hi)
      : shape_(std::move(shape)), o_(std::move(o)), factored_(factored), lo_(lo), hi_(hi) {}

  void step(std::vector<double>& x, const std::vector<double>& g) {
    ++t_;
    const double t = static_cast<double>(t_), n = static_cast<double>(x.size());
    const double beta = 1.0 - std::pow(t, -num("decay_rate")), eps = num("eps");
    std::vector<double> vhat(x.size());
    if (factored_) {
      std::map<std::vector<std::int64_t>, double> row_sum, col_sum;  // q summed over hi / over lo
      for (std::size_t e = 0; e < x.size(); ++e) {
        const double q = g[e] * g[e] + eps;
        row_sum[without(e, hi_)] += q;
        col_sum[without(e, lo_)] += q;
      }
      for (auto& [k, s] : row_sum) row_[k] = beta * row_[k] + (1 - beta) * s / static_cast<double>(shape_[hi_]);
      for (auto& [k, s] : col_sum) col_[k] = beta * col_[k] + (1 - beta) * s / static_cast<double>(shape_[lo_]);
      std::map<std::vector<std::int64_t>, double> row_mean;  // mean of v_row over lo, per other axes
      for (const auto& [k, v] : row_) {
        auto key = k;
        key.erase(key.begin() + static_cast<std::ptrdiff_t>(lo_));
        row_mean[key] += v / static_cast<double>(shape_[lo_]);
      }
      for (std::size_t e = 0; e < x.size(); ++e) {
        auto rk = without(e, hi_), key = rk;
        key.erase(key.begin() + static_cast<std::ptrdiff_t>(lo_));
        vhat[e] = row_[rk] * col_[without(e, lo_)] / row_mean[key];
      }
    } else {
      v_.resize(x.size(), 0.0);
      for (std::size_t e = 0; e < x.size(); ++e) vhat[e] = v_[e] = beta * v_[e] + (1 - beta) * (g[e] * g[e] + eps);
    }
    std::vector<double> u(x.size());
    double su = 0, sp = 0;
    for (std::size_t e = 0; e < x.size(); ++e) {
      u[e] = g[e] / std::sqrt(vhat[e]);
      su += u[e] * u[e];
      sp += x[e] * x[e];
    }
    const double d = num("clip_threshold");
    const double clip = d > 0 ? std::max(1.0, std::sqrt(su / n) / d) : 1.0;
    const double rho = flag("relative_step") ? std::min(num("lr"), 1.0 / std::sqrt(t)) : num("lr");
    const double alpha = flag("scale_parameter") ? std::max(num("eps2"), std::sqrt(sp / n)) * rho : rho;
    m_.resize(x.size(), 0.0);
    for (std::size_t e = 0; e < x.size(); ++e) {
      double s = alpha * u[e] / clip;
      if (num("beta1") > 0) s = m_[e] = num("beta1") * m_[e] + (1 - num("beta1")) * s;
      x[e] -= s;
    }
  }

 private:
  std::vector<std::int64_t> without(std::size_t e, std::size_t axis) const {
    std::vector<std::int64_t> idx(shape_.size());
    auto rem = static_cast<std::int64_t>(e);
    for (std::size_t a = shape_.size(); a-- > 0;) {
      idx[a] = rem % shape_[a];
      rem /= shape_[a];
    }
    idx.erase(idx.begin() + static_cast<std::ptrdiff_t>(axis));
    return idx;
  }
  double num(const char* k) const { return std::stod(o_.at(k)); }
  bool flag(const char* k) const { return o_.at(k) == "true"; }

  Shape shape_;
  OptionMap o_;
  bool factored_;
  std::size_t lo_, hi_;
  std::int64_t t_ = 0;
  std::map<std::vector<std::int64_t>, double> row_, col_;
  std::vector<double> v_, m_;
};

TEST(Adafactor, StepsMatchADoubleReimplementation) {
  const OptionMap defaults{{"lr", "0.01"},         {"relative_step", "true"}, {"scale_parameter", "true"},
                           {"decay_rate", "0.8"},  {"clip_threshold", "1"},   {"eps", "1e-30"},
                           {"eps2", "0.001"},      {"beta1", "0"},            {"factored", "true"},
                           {"min_dim_size_to_factor", "128"}};
  struct Case {
    Shape shape;
    OptionMap changes;
    bool factored;
    std::size_t lo, hi;
    std::vector<std::string> state;  // expected buffers
  };
  const std::vector<Case> cases{
      {{3, 4}, {{"min_dim_size_to_factor", "2"}}, true, 0, 1, {"v_row", "v_col"}},
      {{2, 3, 5}, {{"min_dim_size_to_factor", "3"}, {"beta1", "0.9"}}, true, 1, 2, {"v_row", "v_col", "exp_avg"}},
      {{4, 2, 3}, {{"min_dim_size_to_factor", "2"}, {"relative_step", "false"}, {"lr", "0.3"}}, true, 0, 2, {"v_row", "v_col"}},
      {{130, 129}, {}, true, 0, 1, {"v_row", "v_col"}},  // the defaults factor it: 129 >= 128
      {{4, 200}, {}, false, 0, 0, {"v"}},                // 4 < 128: not factored
      {{6}, {{"clip_threshold", "0"}, {"scale_parameter", "false"}}, false, 0, 0, {"v"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(adakit::shape_to_string(c.shape));
    OptionMap o = defaults;
    for (const auto& [k, v] : c.changes) o[k] = v;
    Parameter p("w", Tensor(c.shape, 0.0f));
    adakit::Rng rng(3);
    rng.fill_uniform(p.value().span(), -0.5, 0.5);
    auto opt = make("adafactor", {&p}, o);
    AdafactorReference ref(c.shape, o, c.factored, c.lo, c.hi);
    std::vector<double> x = values(p);
    for (int s = 1; s <= 4; ++s) {
      auto g = float_grads(rng, x.size(), 0.1);
      for (std::size_t e = 0; e < g.size(); e += 3) g[e] = static_cast<double>(static_cast<float>(g[e] * 10));
      set_grad(p, g);
      opt->step();
      ref.step(x, g);
      expect_close(p, x, 2e-6, "step " + std::to_string(s));
      x = values(p);
    }
    const auto* st = opt->state(p);
    ASSERT_EQ(st->buffers.size(), c.state.size());
    for (const auto& b : c.state) EXPECT_NE(st->buffer(b), nullptr) << b;
  }
  // The factored statistics' shapes: the other axes kept.
  Parameter q("q", Tensor({2, 3, 5}));
  auto opt = make("adafactor", {&q}, {{"min_dim_size_to_factor", "3"}});
  const auto spec = opt->state_spec(0, {2, 3, 5});
  ASSERT_EQ(spec.size(), 2u);
  EXPECT_EQ(spec[0].shape, (Shape{2, 3}));  // v_row: mean over the largest axis (5)
  EXPECT_EQ(spec[1].shape, (Shape{2, 5}));  // v_col: mean over the second largest (3)
}

// ---------------------------------------------------------------- the must-reach, small

// f = ½ (x - x*)ᵀ A (x - x*), A = Qᵀ diag(λ) Q with λ log-spaced over [1, 1e4] and Q a random
// rotation, f(0) = 1 (bench/family_quadratic.cpp runs the same problem at 100 dimensions).
struct RotatedQuadratic {
  std::size_t n;
  Matrix a;
  std::vector<double> xs;
  RotatedQuadratic(std::size_t dim, std::uint64_t seed) : n(dim), a(adakit_test::zeros(dim, dim)), xs(dim) {
    adakit::Rng rng(seed);
    Matrix q = adakit_test::zeros(n, n);
    for (auto& row : q)
      for (auto& v : row) v = rng.normal();
    for (std::size_t i = 0; i < n; ++i) {  // Gram-Schmidt, twice
      for (int pass = 0; pass < 2; ++pass)
        for (std::size_t j = 0; j < i; ++j) {
          double d = 0;
          for (std::size_t k = 0; k < n; ++k) d += q[i][k] * q[j][k];
          for (std::size_t k = 0; k < n; ++k) q[i][k] -= d * q[j][k];
        }
      double norm = 0;
      for (double v : q[i]) norm += v * v;
      for (double& v : q[i]) v /= std::sqrt(norm);
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t k = 0; k < n; ++k)
          a[i][j] += q[k][i] * std::pow(1e4, static_cast<double>(k) / static_cast<double>(n - 1)) * q[k][j];
    for (auto& v : xs) v = rng.normal();
    const double scale = std::sqrt(loss(std::vector<float>(n, 0.0f)));
    for (auto& v : xs) v /= scale;
  }
  double loss(std::span<const float> x) const {
    double f = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) f += 0.5 * (x[i] - xs[i]) * a[i][j] * (x[j] - xs[j]);
    return f;
  }
  // Steps to reach f < 1e-6 (or -1 within `cap`).
  int steps_to(const std::string& name, const OptionMap& o, int cap) const {
    Parameter x("x", Tensor({static_cast<std::int64_t>(n)}, 0.0f));
    auto opt = make(name, {&x}, o);
    for (int s = 1; s <= cap; ++s) {
      for (std::size_t i = 0; i < n; ++i) {
        double g = 0;
        for (std::size_t j = 0; j < n; ++j) g += a[i][j] * (x.value()[static_cast<std::int64_t>(j)] - xs[j]);
        x.grad()[static_cast<std::int64_t>(i)] = static_cast<float>(g);
      }
      opt->step();
      const double f = loss(x.value().span());
      if (!std::isfinite(f) || f > 1e6) return -1;
      if (f < 1e-6) return s;
    }
    return -1;
  }
};

TEST(FamilyConvergence, FullMatrixAndShampooBeatDiagonalTenfoldOnARotatedQuadratic) {
  const RotatedQuadratic q(20, 1);
  // lrs tuned on a grid by adakit-family-quadratic --dim 20 (54, 54 and 104 steps; diagonal AdaGrad's
  // best is 7848 steps at lr 0.01).
  const int full = q.steps_to("adagrad-full", {{"lr", "0.05623"}}, 1000);
  const int shampoo = q.steps_to("shampoo", {{"lr", "0.05623"}, {"graft", "false"}}, 1000);
  const int grafted = q.steps_to("shampoo", {{"lr", "0.1778"}}, 1000);
  ASSERT_GT(full, 0);
  ASSERT_GT(shampoo, 0);
  ASSERT_GT(grafted, 0);
  const int slowest = std::max({full, shampoo, grafted});
  EXPECT_LE(slowest, 200) << full << " " << shampoo << " " << grafted;
  // Diagonal AdaGrad at every lr of a grid over 4 decades: not there within 10x those steps.
  for (double lr : {1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0}) {
    EXPECT_EQ(q.steps_to("adagrad", {{"lr", adakit::optim::format_double(lr)}}, 10 * slowest), -1) << "lr " << lr;
  }
  RecordProperty("adagrad_full_steps", full);
  RecordProperty("shampoo_steps", shampoo);
  RecordProperty("shampoo_grafted_steps", grafted);
}

// ---------------------------------------------------------------- options, state dicts, memory

TEST(FamilyOptions, InvalidValuesNameTheField) {
  Parameter p("p", Tensor({2, 2}));
  struct Bad {
    const char* optimizer;
    const char* key;
    const char* value;
  };
  for (const Bad b : {Bad{"adagrad-norm", "b0", "-1"}, Bad{"adagrad-norm", "global", "sometimes"},
                      Bad{"adagrad-full", "block_size", "0"}, Bad{"adagrad-full", "block_size", "1.5"},
                      Bad{"adagrad-full", "block_size", "100000"}, Bad{"adagrad-full", "precondition_every", "0"},
                      Bad{"adagrad-full", "eps_mode", "between"}, Bad{"adagrad-full", "eps", "-1"},
                      Bad{"sm3", "momentum", "1"}, Bad{"sm3", "eps", "nan"}, Bad{"shampoo", "block_size", "-3"},
                      Bad{"shampoo", "precondition_every", "two"}, Bad{"shampoo", "graft_eps", "-1e-10"},
                      Bad{"adafactor", "beta1", "1"}, Bad{"adafactor", "decay_rate", "0"},
                      Bad{"adafactor", "min_dim_size_to_factor", "-1"}, Bad{"adafactor", "clip_threshold", "-1"},
                      Bad{"sm3", "block_size", "4"}}) {
    SCOPED_TRACE(std::string(b.optimizer) + " " + b.key + "=" + b.value);
    try {
      (void)make(b.optimizer, {&p}, {{b.key, b.value}});
      ADD_FAILURE() << "accepted";
    } catch (const adakit::UsageError& e) {
      EXPECT_EQ(e.context().field, b.key) << e.what();
      EXPECT_NE(std::string(e.what()).find(b.key), std::string::npos) << e.what();
    }
  }
}

TEST(FamilyState, SavedStateIsCheckedAgainstTheLayout) {
  Parameter w("w", Tensor({3, 4}, 0.5f)), v("v", Tensor({4}, 0.5f));
  auto opt = make("shampoo", {&w, &v}, {{"block_size", "2"}});
  w.grad().fill(0.1f);
  v.grad().fill(0.2f);
  opt->step();
  const auto good = opt->state_dict();
  ASSERT_TRUE(good.tensors.contains("w.L_lo"));
  ASSERT_TRUE(good.tensors.contains("v.graft_sum"));
  EXPECT_FALSE(good.tensors.contains("v.R"));  // a vector has no right statistic

  Parameter w2("w", Tensor({3, 4}, 0.5f)), v2("v", Tensor({4}, 0.5f));
  auto fresh = [&] { return make("shampoo", {&w2, &v2}, {}); };
  auto expect_error = [&](adakit::optim::StateDict d, const std::string& field) {
    auto o = fresh();
    try {
      o->load_state_dict(d);
      ADD_FAILURE() << "loaded";
    } catch (const adakit::Error& e) {
      EXPECT_EQ(e.context().field, field) << e.what();
    }
    EXPECT_EQ(o->steps(), 0);
    EXPECT_EQ(o->group_options(0).at("block_size"), "128");  // options restored after a failed load
  };
  auto wrong_shape = good;
  wrong_shape.tensors["w.R"] = Tensor({3});
  expect_error(wrong_shape, "w.R");
  auto missing = good;
  missing.tensors.erase("w.L_root");
  expect_error(missing, "w.L_root");
  auto unknown = good;
  unknown.tensors["v.R"] = Tensor({4});
  expect_error(unknown, "v.R");

  auto ok = fresh();
  ok->load_state_dict(good);
  EXPECT_EQ(ok->group_options(0).at("block_size"), "2");
  EXPECT_EQ(ok->steps(), 1);

  // An option that sizes the state changed after the first step: an Error naming the buffer.
  opt->set_group_options(0, {{"block_size", "3"}});
  try {
    opt->step();
    ADD_FAILURE() << "stepped";
  } catch (const adakit::Error& e) {
    EXPECT_EQ(e.context().field, "L") << e.what();
  }
  opt->reset();
  EXPECT_NO_THROW(opt->step());

  // adagrad-norm's global accumulator is group state: saved as group.0.sum_sq and restored.
  Parameter a("a", Tensor({2}, 0.0f));
  auto norm = make("adagrad-norm", {&a}, {{"global", "true"}});
  a.grad().fill(3.0f);
  norm->step();
  const auto d = norm->state_dict();
  ASSERT_TRUE(d.tensors.contains("group.0.sum_sq"));
  Parameter a2("a", Tensor({2}, 0.0f));
  auto norm2 = make("adagrad-norm", {&a2}, {});
  norm2->load_state_dict(d);
  EXPECT_EQ(norm2->group_state(0).at("sum_sq")[0], norm->group_state(0).at("sum_sq")[0]);
  EXPECT_EQ(norm2->group_options(0).at("global"), "true");
}

TEST(FamilyMemory, StateBytesFromShapes) {
  // 4096 x 4096 without allocating it: state_bytes(shape) of optimizers built over a small parameter.
  Parameter tiny("tiny", Tensor({2}));
  const Shape big{4096, 4096};
  const auto bytes = [&](const std::string& name, const OptionMap& o = {}) {
    return make(name, {&tiny}, o)->state_bytes(big);
  };
  const std::int64_t adagrad = bytes("adagrad");
  EXPECT_EQ(adagrad, 4096LL * 4096 * 4);
  EXPECT_EQ(bytes("sm3"), (4096 + 4096) * 4);
  EXPECT_EQ(bytes("adafactor"), (4096 + 4096) * 4);
  EXPECT_LT(bytes("sm3") * 100, adagrad);
  EXPECT_LT(bytes("adafactor") * 100, adagrad);
  EXPECT_EQ(bytes("sm3", {{"momentum", "0.9"}}), adagrad + (4096 + 4096) * 4);
  EXPECT_EQ(bytes("adagrad-norm"), 4);
  EXPECT_EQ(bytes("adam"), 2 * adagrad);
  // Shampoo, 128-blocks: 32 x 32 tiles, each L, L_lo, L_root, R, R_lo, R_root of 128², plus grafting.
  EXPECT_EQ(bytes("shampoo"), 32LL * 32 * 6 * 128 * 128 * 4 + adagrad);
  // Full-matrix, 1024-blocks: 16384 blocks of four 1024² matrices.
  EXPECT_EQ(bytes("adagrad-full"), 16384LL * 4 * 1024 * 1024 * 4);
}

TEST(FamilyMemory, StateBytesEqualsWhatAStepAllocates) {
  for (const auto& info : adakit::optim::optimizers()) {
    for (const OptionMap& o : {OptionMap{}, info.name == "adagrad-full" ? OptionMap{{"block_size", "3"}}
                                            : info.name == "shampoo"    ? OptionMap{{"block_size", "3"}, {"graft", "false"}}
                                            : info.name == "adafactor"  ? OptionMap{{"min_dim_size_to_factor", "2"}, {"beta1", "0.5"}}
                                            : info.name == "sm3"        ? OptionMap{{"momentum", "0.5"}}
                                            : info.name == "adagrad-norm" ? OptionMap{{"global", "true"}}
                                                                          : OptionMap{}}) {
      SCOPED_TRACE(std::string(info.name));
      Parameter w("w", Tensor({5, 7}, 0.5f)), b("b", Tensor({7}, 0.5f)), s("s", Tensor({2, 3, 4}, 0.5f));
      auto opt = info.make({&w, &b, &s}, o);
      const std::int64_t planned = opt->state_bytes();
      for (auto* p : {&w, &b, &s}) p->grad().fill(0.25f);
      opt->step();
      std::int64_t held = 0;
      for (auto* p : {&w, &b, &s})
        for (const auto& [name, t] : opt->state(*p)->buffers) held += t.numel() * 4;
      for (const auto& [name, t] : opt->group_state(0)) held += t.numel() * 4;
      EXPECT_EQ(planned, held);
      if (info.name != "sgd") {
        EXPECT_GT(held, 0);
      }
    }
  }
}

}  // namespace
