// RMSProp — Tieleman & Hinton, COURSERA Neural Networks lecture 6.5 (2012); centered variant —
// Graves, "Generating Sequences With Recurrent Neural Networks" (2013), eq. 38-45.
// Semantics and defaults of torch.optim.RMSprop (PyTorch 1.13+), elementwise:
//   g = -g                  if maximize
//   g = g + wd * θ
//   v = alpha * v + (1 - alpha) * g²
//   a = alpha * a + (1 - alpha) * g,  d = sqrt(v - a²) + eps     if centered
//   d = sqrt(v) + eps                                             otherwise   (eps outside the root)
//   b = momentum * b + g / d,  θ = θ - lr * b                     if momentum > 0
//   θ = θ - lr * g / d                                            otherwise
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct RmspropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
  bool centered = false, maximize = false;
  void validate() const;
};

// grad_avg may be empty unless centered; momentum_buffer may be empty unless momentum > 0.
void rmsprop_step(std::span<float> param, std::span<const float> grad, std::span<float> square_avg,
                  std::span<float> grad_avg, std::span<float> momentum_buffer, const RmspropOptions& options,
                  std::int64_t step);

struct RmspropRule {
  using Options = RmspropOptions;
  static constexpr std::string_view name = "rmsprop";
  static constexpr bool supports_rows = false;
  static std::span<const Field<Options>> fields();
  static StateNames<3> state_names(const Options& o);
  static float initial_value(const Options&, std::string_view) { return 0.0f; }
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t step);
};
using Rmsprop = RuleOptimizer<RmspropRule>;

}  // namespace adakit::optim
