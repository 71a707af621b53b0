#include "adakit/optim/sgd.hpp"

#include <array>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void SgdOptions::validate() const {
  require_finite_nonnegative("sgd", "lr", lr);
  require_finite_nonnegative("sgd", "momentum", momentum);
  require_finite_nonnegative("sgd", "dampening", dampening);
  require_finite_nonnegative("sgd", "weight_decay", weight_decay);
  if (nesterov && (momentum <= 0.0 || dampening != 0.0))
    throw UsageError("sgd: nesterov needs momentum > 0 and dampening = 0", {"", 0, "nesterov"});
}

namespace {
template <bool kDecay, bool kMomentum, bool kNesterov>
void sgd_block(float* __restrict p, const float* __restrict g, float* __restrict b, std::int64_t n, float lr,
               float wd, float mu, float damp1, float sign, bool first) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    if constexpr (kDecay) gi += wd * p[i];
    if constexpr (kMomentum) {
      const float bi = first ? gi : mu * b[i] + damp1 * gi;
      b[i] = bi;
      gi = kNesterov ? gi + mu * bi : bi;
    }
    p[i] -= lr * gi;
  }
}
}  // namespace

void sgd_step(std::span<float> param, std::span<const float> grad, std::span<float> momentum_buffer,
              const SgdOptions& o, std::int64_t step) {
  detail::check_same_size("sgd_step", "grad", grad.size(), param.size());
  detail::check_step("sgd_step", step);
  const bool momentum = o.momentum != 0.0;
  if (momentum) detail::check_same_size("sgd_step", "momentum_buffer", momentum_buffer.size(), param.size());
  const auto lr = static_cast<float>(o.lr), wd = static_cast<float>(o.weight_decay);
  const auto mu = static_cast<float>(o.momentum), damp1 = static_cast<float>(1.0 - o.dampening);
  const float sign = o.maximize ? -1.0f : 1.0f;
  const bool first = step == 1;
  detail::with_flag(o.weight_decay != 0.0, [&](auto kd) {
    detail::with_flag(momentum, [&](auto km) {
      detail::with_flag(o.nesterov, [&](auto kn) {
        parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
          sgd_block<decltype(kd)::value, decltype(km)::value, decltype(kn)::value>(
              param.data() + b, grad.data() + b, km ? momentum_buffer.data() + b : nullptr, e - b, lr, wd, mu, damp1,
              sign, first);
        });
      });
    });
  });
}

std::span<const Field<SgdOptions>> SgdRule::fields() {
  using O = SgdOptions;
  static const std::array<Field<O>, 6> table{{
      {"lr", &O::lr, "learning rate"},
      {"momentum", &O::momentum, "momentum factor"},
      {"dampening", &O::dampening, "dampening of the momentum"},
      {"weight_decay", &O::weight_decay, "L2 penalty added to the gradient"},
      {"nesterov", &O::nesterov, "Nesterov momentum"},
      {"maximize", &O::maximize, "ascend instead of descend"},
  }};
  return table;
}

StateNames<1> SgdRule::state_names(const Options& o) {
  if (o.momentum != 0.0) return {{"momentum_buffer"}};
  return {};
}

void SgdRule::step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t t) {
  sgd_step(param, grad, state.empty() ? std::span<float>{} : state[0], o, t);
}

}  // namespace adakit::optim
