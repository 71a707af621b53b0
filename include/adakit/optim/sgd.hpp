// SGD with momentum — Polyak 1964 (heavy ball); Nesterov momentum in the form of Sutskever et al.,
// ICML 2013. Semantics and defaults of torch.optim.SGD (PyTorch 1.13+), elementwise:
//   g = -g              if maximize
//   g = g + wd * θ
//   if momentum != 0:
//     b = g                                   at step 1 (no dampening on the first step)
//     b = momentum * b + (1 - dampening) * g  afterwards
//     g = g + momentum * b   if nesterov,  else g = b
//   θ = θ - lr * g
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct SgdOptions {
  double lr = 1e-3, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false, maximize = false;
  void validate() const;  // also: nesterov needs momentum > 0 and dampening == 0 (as PyTorch)
};

// momentum_buffer may be empty when momentum == 0.
void sgd_step(std::span<float> param, std::span<const float> grad, std::span<float> momentum_buffer,
              const SgdOptions& options, std::int64_t step);

struct SgdRule {
  using Options = SgdOptions;
  static constexpr std::string_view name = "sgd";
  static constexpr bool supports_rows = false;
  static std::span<const Field<Options>> fields();
  static StateNames<1> state_names(const Options& o);
  static float initial_value(const Options&, std::string_view) { return 0.0f; }
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t step);
};
using Sgd = RuleOptimizer<SgdRule>;

}  // namespace adakit::optim
