#include "adakit/optim/clip.hpp"

#include <cmath>

#include "adakit/core/error.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

void ClipOptions::validate() const {
  require_finite_nonnegative("clip", "max_norm", max_norm);
  require_finite_nonnegative("clip", "max_value", max_value);
}

double sum_of_squares(std::span<const float> x) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (std::size_t i = 0; i < x.size(); ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return acc;
}

void clamp_values(std::span<float> x, float max_abs) {
#pragma omp simd
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = clip_value(x[i], max_abs);
}

void scale_values(std::span<float> x, float factor) {
#pragma omp simd
  for (std::size_t i = 0; i < x.size(); ++i) x[i] *= factor;
}

namespace {
std::span<float> grad_values(Parameter& p) {
  if (p.has_sparse_grad()) return p.sparse_grad()->values;
  return p.grad().span();
}
}  // namespace

double global_grad_norm(std::span<Parameter* const> params) {
  double total = 0.0;
  for (auto* p : params)
    if (p->requires_grad()) total += sum_of_squares(grad_values(*p));
  return std::sqrt(total);
}

double clip_gradients(std::span<Parameter* const> params, const ClipOptions& options) {
  if (options.max_value > 0.0)
    for (auto* p : params)
      if (p->requires_grad()) clamp_values(grad_values(*p), static_cast<float>(options.max_value));
  if (options.max_norm <= 0.0) return 0.0;
  const double norm = global_grad_norm(params);
  const double coef = norm_clip_coefficient(options, norm);
  if (coef < 1.0)
    for (auto* p : params)
      if (p->requires_grad()) scale_values(grad_values(*p), static_cast<float>(coef));
  return norm;
}

}  // namespace adakit::optim
