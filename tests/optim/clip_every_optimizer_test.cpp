// Gradient clipping composes with every optimizer of the registry: an optimizer with set_clip() moves
// its parameters exactly as the same optimizer without clipping fed gradients clipped by an
// independent double-precision reference (value clamp, then global norm, as PyTorch's utilities).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/optim/registry.hpp"

namespace {
using namespace adakit;

struct Params {
  Parameter a{"a", Tensor({3, 4})}, b{"b", Tensor({5})};
  Params() {
    Rng rng(1);
    rng.fill_uniform(a.value().span(), -1, 1);
    rng.fill_uniform(b.value().span(), -1, 1);
  }
  std::vector<Parameter*> list() { return {&a, &b}; }
};

// clamp to [-v, v], then scale by max_norm / (norm + 1e-6) when that is < 1; in double.
std::vector<std::vector<double>> reference_clip(std::vector<std::vector<double>> g, double max_norm, double max_value) {
  double sq = 0.0;
  for (auto& t : g)
    for (auto& x : t) {
      x = std::clamp(x, -max_value, max_value);
      sq += x * x;
    }
  const double coef = max_norm / (std::sqrt(sq) + 1e-6);
  if (coef < 1.0)
    for (auto& t : g)
      for (auto& x : t) x *= coef;
  return g;
}

void set_grads(Params& p, const std::vector<std::vector<double>>& g) {
  std::vector<Parameter*> ps = p.list();
  for (std::size_t i = 0; i < ps.size(); ++i)
    for (std::int64_t k = 0; k < ps[i]->numel(); ++k) ps[i]->grad()[k] = static_cast<float>(g[i][static_cast<std::size_t>(k)]);
}

double max_diff(Params& x, Params& y) {
  double d = 0.0;
  auto px = x.list(), py = y.list();
  for (std::size_t i = 0; i < px.size(); ++i)
    for (std::int64_t k = 0; k < px[i]->numel(); ++k)
      d = std::max(d, std::abs(static_cast<double>(px[i]->value()[k]) - py[i]->value()[k]));
  return d;
}

TEST(ClipEveryOptimizer, ClippedStepsEqualStepsOnReferenceClippedGradients) {
  const double max_norm = 1.5, max_value = 2.0;
  for (const auto& info : optim::optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    for (int mode = 0; mode < 3; ++mode) {  // norm only, value only, both
      SCOPED_TRACE("mode " + std::to_string(mode));
      const double norm = mode == 1 ? 0.0 : max_norm, value = mode == 0 ? 0.0 : max_value;
      Params clipped, reference, unclipped;
      auto opt_c = optim::make_optimizer(info.name, clipped.list());
      auto opt_r = optim::make_optimizer(info.name, reference.list());
      auto opt_u = optim::make_optimizer(info.name, unclipped.list());
      opt_c->set_clip({norm, value});
      Rng rng(7);
      for (int step = 1; step <= 6; ++step) {
        // Gradients of growing size, so that the clipping factor changes from step to step (even
        // scale-free rules such as Adam then move differently with and without clipping).
        std::vector<std::vector<double>> g{std::vector<double>(12), std::vector<double>(5)};
        for (auto& t : g)
          for (auto& x : t) x = rng.normal() * 3.0 * step;
        set_grads(clipped, g);
        set_grads(unclipped, g);
        set_grads(reference, reference_clip(g, norm > 0 ? norm : 1e300, value > 0 ? value : 1e300));
        opt_c->step();
        opt_r->step();
        opt_u->step();
      }
      EXPECT_LE(max_diff(clipped, reference), 1e-5);
      EXPECT_GE(max_diff(clipped, unclipped), 1e-4) << "clipping had no effect";
    }
  }
}

}  // namespace
