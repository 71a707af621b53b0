#include "adakit/optim/rmsprop.hpp"

#include <array>
#include <cmath>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void RmspropOptions::validate() const {
  require_finite_nonnegative("rmsprop", "lr", lr);
  require_in_range("rmsprop", "alpha", alpha, 0.0, 1.0, true);
  require_finite_nonnegative("rmsprop", "eps", eps);
  require_finite_nonnegative("rmsprop", "weight_decay", weight_decay);
  require_finite_nonnegative("rmsprop", "momentum", momentum);
}

namespace {
template <bool kDecay, bool kCentered, bool kMomentum>
void rmsprop_block(float* __restrict p, const float* __restrict g, float* __restrict v, float* __restrict a,
                   float* __restrict b, std::int64_t n, float lr, float alpha, float eps, float wd, float mu,
                   float sign, float c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    if constexpr (kDecay) gi += wd * p[i];
    const float vi = alpha * v[i] + c * (gi * gi);
    v[i] = vi;
    float d;
    if constexpr (kCentered) {
      const float ai = alpha * a[i] + c * gi;
      a[i] = ai;
      d = std::sqrt(vi - ai * ai) + eps;
    } else {
      d = std::sqrt(vi) + eps;
    }
    if constexpr (kMomentum) {
      const float bi = mu * b[i] + gi / d;
      b[i] = bi;
      p[i] -= lr * bi;
    } else {
      p[i] -= lr * (gi / d);
    }
  }
}
}  // namespace

void rmsprop_step(std::span<float> param, std::span<const float> grad, std::span<float> square_avg,
                  std::span<float> grad_avg, std::span<float> momentum_buffer, const RmspropOptions& o,
                  std::int64_t step) {
  detail::check_same_size("rmsprop_step", "grad", grad.size(), param.size());
  detail::check_same_size("rmsprop_step", "square_avg", square_avg.size(), param.size());
  if (o.centered) detail::check_same_size("rmsprop_step", "grad_avg", grad_avg.size(), param.size());
  if (o.momentum > 0.0)
    detail::check_same_size("rmsprop_step", "momentum_buffer", momentum_buffer.size(), param.size());
  detail::check_step("rmsprop_step", step);
  const float sign = o.maximize ? -1.0f : 1.0f;
  detail::with_flag(o.weight_decay != 0.0, [&](auto kd) {
    detail::with_flag(o.centered, [&](auto kc) {
      detail::with_flag(o.momentum > 0.0, [&](auto km) {
        parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
          rmsprop_block<decltype(kd)::value, decltype(kc)::value, decltype(km)::value>(
              param.data() + b, grad.data() + b, square_avg.data() + b, kc ? grad_avg.data() + b : nullptr,
              km ? momentum_buffer.data() + b : nullptr, e - b, static_cast<float>(o.lr),
              static_cast<float>(o.alpha), static_cast<float>(o.eps), static_cast<float>(o.weight_decay),
              static_cast<float>(o.momentum), sign, static_cast<float>(1.0 - o.alpha));
        });
      });
    });
  });
}

std::span<const Field<RmspropOptions>> RmspropRule::fields() {
  using O = RmspropOptions;
  static const std::array<Field<O>, 7> table{{
      {"lr", &O::lr, "learning rate"},
      {"alpha", &O::alpha, "decay of the squared-gradient average"},
      {"eps", &O::eps, "added to the denominator (outside the root)"},
      {"weight_decay", &O::weight_decay, "L2 penalty added to the gradient"},
      {"momentum", &O::momentum, "momentum factor"},
      {"centered", &O::centered, "divide by the estimated variance (Graves 2013)"},
      {"maximize", &O::maximize, "ascend instead of descend"},
  }};
  return table;
}

StateNames<3> RmspropRule::state_names(const Options& o) {
  if (o.momentum > 0.0 && o.centered) return {{"square_avg", "momentum_buffer", "grad_avg"}};
  if (o.momentum > 0.0) return {{"square_avg", "momentum_buffer"}};
  if (o.centered) return {{"square_avg", "grad_avg"}};
  return {{"square_avg"}};
}

void RmspropRule::step(const Options& o, std::span<float> param, std::span<const float> grad,
                       std::span<const std::span<float>> state, std::int64_t t) {
  std::span<float> momentum = o.momentum > 0.0 ? state[1] : std::span<float>{};
  std::span<float> grad_avg = o.centered ? state[o.momentum > 0.0 ? 2 : 1] : std::span<float>{};
  rmsprop_step(param, grad, state[0], grad_avg, momentum, o, t);
}

}  // namespace adakit::optim
