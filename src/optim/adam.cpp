#include "adakit/optim/adam.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void AdamOptions::validate() const {
  const char* n = decoupled_weight_decay ? "adamw" : "adam";
  require_finite_nonnegative(n, "lr", lr);
  require_in_range(n, "beta1", beta1, 0.0, 1.0, false);
  require_in_range(n, "beta2", beta2, 0.0, 1.0, false);
  require_finite_nonnegative(n, "eps", eps);
  require_finite_nonnegative(n, "weight_decay", weight_decay);
}

AdamOptions adamw_options() {
  AdamOptions o;
  o.weight_decay = 1e-2;
  o.decoupled_weight_decay = true;
  return o;
}

namespace {
template <bool kL2, bool kDecoupled, bool kAmsgrad>
void adam_block(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                float* __restrict vmax, std::int64_t n, float step_size, float inv_bc2_sqrt, float b1, float b2,
                float eps, float wd, float shrink, float sign, float c1, float c2) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    float pi = p[i];
    if constexpr (kDecoupled) pi *= shrink;
    if constexpr (kL2) gi += wd * pi;
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    float vh = vi;
    if constexpr (kAmsgrad) {
      const float vm = vmax[i];  // a plain select, so GCC vectorises it (std::max on references did not)
      vh = vm < vi ? vi : vm;
      vmax[i] = vh;
    }
    // sqrt(v̂) times 1/sqrt(1 - beta2^t) rather than divided by it (torch's order): equal up to
    // rounding, one vdivps fewer, which bounds the step while the arrays are in cache.
    const float d = std::sqrt(vh) * inv_bc2_sqrt + eps;
    p[i] = pi - step_size * (mi / d);
  }
}
}  // namespace

void adam_step(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
               std::span<float> exp_avg_sq, std::span<float> max_exp_avg_sq, const AdamOptions& o,
               std::int64_t step) {
  detail::check_same_size("adam_step", "grad", grad.size(), param.size());
  detail::check_same_size("adam_step", "exp_avg", exp_avg.size(), param.size());
  detail::check_same_size("adam_step", "exp_avg_sq", exp_avg_sq.size(), param.size());
  if (o.amsgrad) detail::check_same_size("adam_step", "max_exp_avg_sq", max_exp_avg_sq.size(), param.size());
  detail::check_step("adam_step", step);
  const double t = static_cast<double>(step);
  const auto step_size = static_cast<float>(o.lr / (1.0 - std::pow(o.beta1, t)));
  const auto inv_bc2_sqrt = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(o.beta2, t)));
  const auto shrink = static_cast<float>(1.0 - o.lr * o.weight_decay);
  const float sign = o.maximize ? -1.0f : 1.0f;
  const bool decay = o.weight_decay != 0.0;
  detail::with_flag(decay && !o.decoupled_weight_decay, [&](auto kl2) {
    detail::with_flag(decay && o.decoupled_weight_decay, [&](auto kdec) {
      detail::with_flag(o.amsgrad, [&](auto kams) {
        parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
          adam_block<decltype(kl2)::value, decltype(kdec)::value, decltype(kams)::value>(
              param.data() + b, grad.data() + b, exp_avg.data() + b, exp_avg_sq.data() + b,
              kams ? max_exp_avg_sq.data() + b : nullptr, e - b, step_size, inv_bc2_sqrt, static_cast<float>(o.beta1),
              static_cast<float>(o.beta2), static_cast<float>(o.eps), static_cast<float>(o.weight_decay), shrink,
              sign, static_cast<float>(1.0 - o.beta1), static_cast<float>(1.0 - o.beta2));
        });
      });
    });
  });
}

namespace {
template <class O>
std::span<const Field<O>> adam_fields() {
  static const std::array<Field<O>, 7> table{{
      {"lr", static_cast<double O::*>(&AdamOptions::lr), "learning rate"},
      {"beta1", static_cast<double O::*>(&AdamOptions::beta1), "decay of the first moment"},
      {"beta2", static_cast<double O::*>(&AdamOptions::beta2), "decay of the second moment"},
      {"eps", static_cast<double O::*>(&AdamOptions::eps), "added to the denominator (outside the root)"},
      {"weight_decay", static_cast<double O::*>(&AdamOptions::weight_decay),
       std::is_same_v<O, AdamOptions> ? "L2 penalty added to the gradient" : "decoupled decay: theta *= 1 - lr*wd"},
      {"amsgrad", static_cast<bool O::*>(&AdamOptions::amsgrad), "use the running maximum of v (AMSGrad)"},
      {"maximize", static_cast<bool O::*>(&AdamOptions::maximize), "ascend instead of descend"},
  }};
  return table;
}
}  // namespace

std::span<const Field<AdamOptions>> AdamRule::fields() { return adam_fields<AdamOptions>(); }
std::span<const Field<AdamWRule::Options>> AdamWRule::fields() { return adam_fields<AdamWRule::Options>(); }

StateNames<3> AdamRule::state_names(const Options& o) {
  if (o.amsgrad) return {{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};
  return {{"exp_avg", "exp_avg_sq"}};
}

void AdamRule::step(const Options& o, std::span<float> param, std::span<const float> grad,
                    std::span<const std::span<float>> state, std::int64_t t) {
  adam_step(param, grad, state[0], state[1], o.amsgrad ? state[2] : std::span<float>{}, o, t);
}

}  // namespace adakit::optim
