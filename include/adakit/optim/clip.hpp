// Gradient clipping, applied by the optimizer to all its gradients before any state is touched, so
// it composes with every optimizer. Both as in PyTorch's utilities:
//   by value:       g = clamp(g, -max_value, max_value)                     (clip_grad_value_)
//   by global norm: n = sqrt(sum over all parameters of g²);
//                   g = g * max_norm / (n + 1e-6)  when that factor < 1     (clip_grad_norm_)
// Value clipping runs first. Row-sparse gradients take part with their values. Both factors are
// written once, here (clip_value, norm_clip_coefficient): dist's sharded step and embed's GloVe
// trainer (which clips each gradient coordinate, in double) call them too.
#pragma once
#include <span>

#include "adakit/core/parameter.hpp"

namespace adakit::optim {

struct ClipOptions {
  double max_norm = 0.0;   // 0 = off
  double max_value = 0.0;  // 0 = off
  bool enabled() const { return max_norm > 0.0 || max_value > 0.0; }
  void validate() const;
};

// clamp(g, -max_value, max_value), in float or double; NaN passes through, +inf max_value = no clip.
template <class T>
constexpr T clip_value(T g, T max_value) {
  return g < -max_value ? -max_value : (g > max_value ? max_value : g);
}

// The factor norm clipping scales every gradient by, from the global norm n: max_norm / (n + 1e-6),
// applied only when < 1; 1 when norm clipping is off (max_norm 0).
inline double norm_clip_coefficient(const ClipOptions& options, double norm) {
  return options.max_norm > 0.0 ? options.max_norm / (norm + 1e-6) : 1.0;
}

// Sum of squares in double (for a global norm).
double sum_of_squares(std::span<const float> x);
void clamp_values(std::span<float> x, float max_abs);
void scale_values(std::span<float> x, float factor);

// Global L2 norm of the gradients (dense, or the sparse values where present).
double global_grad_norm(std::span<Parameter* const> params);
// Clips in place; returns the global norm before clipping (0 when norm clipping is off).
double clip_gradients(std::span<Parameter* const> params, const ClipOptions& options);

}  // namespace adakit::optim
