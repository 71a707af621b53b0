#include "adakit/optim/adadelta.hpp"

#include <array>
#include <cmath>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void AdadeltaOptions::validate() const {
  require_finite_nonnegative("adadelta", "lr", lr);
  require_in_range("adadelta", "rho", rho, 0.0, 1.0, true);
  require_finite_nonnegative("adadelta", "eps", eps);
  require_finite_nonnegative("adadelta", "weight_decay", weight_decay);
}

namespace {
template <bool kDecay>
void adadelta_block(float* __restrict p, const float* __restrict g, float* __restrict v, float* __restrict u,
                    std::int64_t n, float lr, float rho, float eps, float wd, float sign, float c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    if constexpr (kDecay) gi += wd * p[i];
    const float vi = rho * v[i] + c * (gi * gi);
    v[i] = vi;
    // One root of the quotient instead of a quotient of two roots (torch's order): equal up to
    // rounding (within 2 ulp), and one vsqrtps fewer, which bounds the step while the arrays
    // are in cache.
    const float delta = std::sqrt((u[i] + eps) / (vi + eps)) * gi;
    u[i] = rho * u[i] + c * (delta * delta);
    p[i] -= lr * delta;
  }
}
}  // namespace

void adadelta_step(std::span<float> param, std::span<const float> grad, std::span<float> square_avg,
                   std::span<float> acc_delta, const AdadeltaOptions& o, std::int64_t step) {
  detail::check_same_size("adadelta_step", "grad", grad.size(), param.size());
  detail::check_same_size("adadelta_step", "square_avg", square_avg.size(), param.size());
  detail::check_same_size("adadelta_step", "acc_delta", acc_delta.size(), param.size());
  detail::check_step("adadelta_step", step);
  const float sign = o.maximize ? -1.0f : 1.0f;
  detail::with_flag(o.weight_decay != 0.0, [&](auto kd) {
    parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
      adadelta_block<decltype(kd)::value>(param.data() + b, grad.data() + b, square_avg.data() + b,
                                          acc_delta.data() + b, e - b, static_cast<float>(o.lr),
                                          static_cast<float>(o.rho), static_cast<float>(o.eps),
                                          static_cast<float>(o.weight_decay), sign,
                                          static_cast<float>(1.0 - o.rho));
    });
  });
}

std::span<const Field<AdadeltaOptions>> AdadeltaRule::fields() {
  using O = AdadeltaOptions;
  static const std::array<Field<O>, 5> table{{
      {"lr", &O::lr, "scale of the step"},
      {"rho", &O::rho, "decay of the running averages"},
      {"eps", &O::eps, "inside both roots"},
      {"weight_decay", &O::weight_decay, "L2 penalty added to the gradient"},
      {"maximize", &O::maximize, "ascend instead of descend"},
  }};
  return table;
}

void AdadeltaRule::step(const Options& o, std::span<float> param, std::span<const float> grad,
                        std::span<const std::span<float>> state, std::int64_t t) {
  adadelta_step(param, grad, state[0], state[1], o, t);
}

}  // namespace adakit::optim
