// Adadelta — Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701 (2012), Alg. 1.
// Semantics and defaults of torch.optim.Adadelta (PyTorch 1.13+), elementwise:
//   g  = -g                 if maximize
//   g  = g + wd * θ
//   v  = rho * v + (1 - rho) * g²
//   Δ  = sqrt(u + eps) / sqrt(v + eps) * g       (u: the running average of Δ², before this step;
//                                                  eps inside both roots)
//   u  = rho * u + (1 - rho) * Δ²
//   θ  = θ - lr * Δ
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0.0;
  bool maximize = false;
  void validate() const;
};

void adadelta_step(std::span<float> param, std::span<const float> grad, std::span<float> square_avg,
                   std::span<float> acc_delta, const AdadeltaOptions& options, std::int64_t step);

struct AdadeltaRule {
  using Options = AdadeltaOptions;
  static constexpr std::string_view name = "adadelta";
  static constexpr bool supports_rows = false;
  static std::span<const Field<Options>> fields();
  static StateNames<2> state_names(const Options&) { return {{"square_avg", "acc_delta"}}; }
  static float initial_value(const Options&, std::string_view) { return 0.0f; }
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t step);
};
using Adadelta = RuleOptimizer<AdadeltaRule>;

}  // namespace adakit::optim
