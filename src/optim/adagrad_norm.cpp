#include "adakit/optim/adagrad_norm.hpp"

#include <array>
#include <cmath>

#include "adakit/core/parallel.hpp"
#include "adakit/optim/clip.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void AdagradNormOptions::validate() const {
  require_finite_nonnegative("adagrad-norm", "lr", lr);
  require_finite_nonnegative("adagrad-norm", "b0", b0);
}

float adagrad_norm_accumulate(std::span<const float> grad, float sum_sq) {
  return static_cast<float>(static_cast<double>(sum_sq) + sum_of_squares(grad));
}

void adagrad_norm_apply(std::span<float> param, std::span<const float> grad, float sum_sq, double lr) {
  detail::check_same_size("adagrad_norm_apply", "grad", grad.size(), param.size());
  if (!(sum_sq > 0.0f)) return;
  const auto step = static_cast<float>(lr / std::sqrt(static_cast<double>(sum_sq)));
  parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
    float* __restrict p = param.data();
    const float* __restrict g = grad.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) p[i] -= step * g[i];
  });
}

std::span<const Field<AdagradNormOptions>> AdagradNormRule::fields() {
  using O = AdagradNormOptions;
  static const std::array<Field<O>, 3> table{{
      {"lr", &O::lr, "learning rate"},
      {"b0", &O::b0, "adagrad-norm: initial b (b^2 starts at b0^2)"},
      {"global", &O::global, "adagrad-norm: one b for the whole parameter group, not one per tensor"},
  }};
  return table;
}

std::vector<BufferSpec> AdagradNormRule::state_spec(const Options& o, const Shape&) {
  if (o.global) return {};
  return {{"sum_sq", {1}, static_cast<float>(o.b0 * o.b0)}};
}

std::vector<BufferSpec> AdagradNormRule::group_state_spec(const Options& o) {
  if (!o.global) return {};
  return {{"sum_sq", {1}, static_cast<float>(o.b0 * o.b0)}};
}

void AdagradNormRule::begin_group_step(const Options& o, std::span<const std::span<const float>> grads,
                                       std::span<const std::span<float>> group_state) {
  if (!o.global) return;
  double total = group_state[0][0];
  for (auto g : grads) total += sum_of_squares(g);
  group_state[0][0] = static_cast<float>(total);
}

void AdagradNormRule::step(const Options& o, const TensorStep& s) {
  detail::check_step("adagrad_norm", s.step);
  if (o.global) {
    adagrad_norm_apply(s.param, s.grad, s.group_state[0][0], o.lr);
  } else {
    s.state[0][0] = adagrad_norm_accumulate(s.grad, s.state[0][0]);
    adagrad_norm_apply(s.param, s.grad, s.state[0][0], o.lr);
  }
}

}  // namespace adakit::optim
