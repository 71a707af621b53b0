// adakit-family-quadratic: steps to reach loss 1e-6 on a rotated ill-conditioned quadratic, for
// diagonal AdaGrad, full-matrix AdaGrad, Shampoo and the rest of the family, each at its best
// learning rate from a grid, measured side by side in one run.
//
//   f(x) = ½ (x - x*)ᵀ A (x - x*),  A = Qᵀ diag(λ) Q,  λ log-spaced over [1, 1e4] (condition 1e4),
//   Q a random rotation (Gram-Schmidt of a Gaussian matrix, seeded), x0 = 0, x* random and scaled so
//   that f(x0) = 1. Deterministic gradients (double, rounded to float). The parameter is one vector
//   of 100 coordinates (Shampoo on a vector is the paper's order-1 case: L^-1/2 g, plus grafting).
//
//   adakit-family-quadratic [--dim 100] [--cap 200000] [--seed 1]
// Prints, per optimizer variant, the best lr of the grid (10^-4 .. 10 in quarter decades) and its
// steps, and the ratio to diagonal AdaGrad's best. Diagonal AdaGrad runs first; the others get at
// most its step count (N+ = not reached within N steps at any lr).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "adakit/adakit.hpp"

namespace {
using namespace adakit;

struct Problem {
  std::int64_t n;
  std::vector<double> a, xs;  // A row-major, x*
  Problem(std::int64_t dim, std::uint64_t seed) : n(dim), a(static_cast<std::size_t>(dim * dim)), xs(static_cast<std::size_t>(dim)) {
    Rng rng(seed);
    const auto N = static_cast<std::size_t>(n);
    std::vector<std::vector<double>> q(N, std::vector<double>(N));
    for (auto& row : q)
      for (auto& v : row) v = rng.normal();
    for (std::size_t i = 0; i < N; ++i) {  // Gram-Schmidt (twice, for orthogonality in double)
      for (int pass = 0; pass < 2; ++pass)
        for (std::size_t j = 0; j < i; ++j) {
          double d = 0;
          for (std::size_t k = 0; k < N; ++k) d += q[i][k] * q[j][k];
          for (std::size_t k = 0; k < N; ++k) q[i][k] -= d * q[j][k];
        }
      double norm = 0;
      for (double v : q[i]) norm += v * v;
      for (double& v : q[i]) v /= std::sqrt(norm);
    }
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        double s = 0;
        for (std::size_t k = 0; k < N; ++k)
          s += q[k][i] * std::pow(1e4, static_cast<double>(k) / static_cast<double>(N - 1)) * q[k][j];
        a[i * N + j] = s;
      }
    for (auto& v : xs) v = rng.normal();
    std::vector<float> zero(N, 0.0f);
    const double scale = std::sqrt(loss(zero));
    for (auto& v : xs) v /= scale;
  }
  double loss(std::span<const float> x) const {
    const auto N = static_cast<std::size_t>(n);
    double f = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double ai = 0;
      for (std::size_t j = 0; j < N; ++j) ai += a[i * N + j] * (x[j] - xs[j]);
      f += 0.5 * (x[i] - xs[i]) * ai;
    }
    return f;
  }
  void grad(std::span<const float> x, std::span<float> g) const {
    const auto N = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < N; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < N; ++j) s += a[i * N + j] * (x[j] - xs[j]);
      g[i] = static_cast<float>(s);
    }
  }
};

// Steps until f < target, or -1 within cap (or on divergence).
std::int64_t steps_to(const Problem& pr, const std::string& name, optim::OptionMap options, double lr,
                      std::int64_t cap, double target) {
  options["lr"] = optim::format_double(lr);
  Parameter x("x", Tensor({pr.n}, 0.0f));
  auto opt = optim::make_optimizer(name, {&x}, options);
  for (std::int64_t s = 1; s <= cap; ++s) {
    pr.grad(x.value().span(), x.grad().span());
    opt->step();
    const double f = pr.loss(x.value().span());
    if (!std::isfinite(f) || f > 1e6) return -1;
    if (f < target) return s;
  }
  return -1;
}

struct Variant {
  std::string label, name;
  optim::OptionMap options;
};

}  // namespace

int main(int argc, char** argv) {
  std::int64_t dim = 100, cap = 200000;
  std::uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dim")) dim = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--cap")) cap = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--dim N] [--cap STEPS] [--seed S]\n", argv[0]);
      return 2;
    }
  }
  const Problem pr(dim, seed);
  const double target = 1e-6;
  const std::vector<Variant> variants{
      {"adagrad (diagonal)", "adagrad", {}},
      {"adagrad-full", "adagrad-full", {}},
      {"adagrad-full every=10", "adagrad-full", {{"precondition_every", "10"}}},
      {"shampoo (graft)", "shampoo", {}},
      {"shampoo no graft", "shampoo", {{"graft", "false"}}},
      {"adagrad-norm", "adagrad-norm", {}},
      {"sm3", "sm3", {}},
      {"adafactor", "adafactor", {{"relative_step", "false"}, {"scale_parameter", "false"}}},
  };
  std::vector<double> grid;
  for (double e = 1.0; e >= -4.01; e -= 0.25) grid.push_back(std::pow(10.0, e));  // large first: they fail fast
  std::printf("rotated quadratic: dim %lld, condition 1e4, f(x0) = 1, target %.0e, cap %lld steps, seed %llu\n",
              static_cast<long long>(dim), target, static_cast<long long>(cap), static_cast<unsigned long long>(seed));
  std::printf("%-24s %10s %10s %10s %9s\n", "optimizer", "best lr", "steps", "vs adagrad", "seconds");
  double base = -1;
  for (const auto& v : variants) {
    const auto t0 = std::chrono::steady_clock::now();
    std::int64_t best = -1;
    double best_lr = 0;
    for (double lr : grid) {
      // Only a better lr matters; and no more steps than diagonal AdaGrad needed (base).
      const std::int64_t budget = best > 0 ? best : (base > 0 ? static_cast<std::int64_t>(base) : cap);
      const std::int64_t s = steps_to(pr, v.name, v.options, lr, budget, target);
      if (s > 0 && (best < 0 || s < best)) best = s, best_lr = lr;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (v.name == "adagrad" && v.options.empty()) base = best > 0 ? static_cast<double>(best) : static_cast<double>(cap);
    char steps[32], ratio[32];
    const auto shown = best > 0 ? best : (base > 0 && v.name != "adagrad" ? static_cast<std::int64_t>(base) : cap);
    std::snprintf(steps, sizeof steps, best > 0 ? "%lld" : "%lld+", static_cast<long long>(shown));
    std::snprintf(ratio, sizeof ratio, best > 0 ? "%.1fx" : "-", base / static_cast<double>(best));
    char lr_text[32];
    std::snprintf(lr_text, sizeof lr_text, best > 0 ? "%.4g" : "-", best_lr);
    std::printf("%-24s %10s %10s %10s %9.1f\n", v.label.c_str(), lr_text, steps, ratio, secs);
    std::fflush(stdout);
  }
  return 0;
}
