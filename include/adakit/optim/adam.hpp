// Adam — Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; AMSGrad — Reddi, Kale
// & Kumar, ICLR 2018; AdamW (decoupled weight decay) — Loshchilov & Hutter, ICLR 2019.
// Semantics and defaults of torch.optim.Adam / AdamW (PyTorch 1.13+), elementwise, t = 1, 2, ...:
//   g = -g                           if maximize
//   θ = θ * (1 - lr * wd)            AdamW (decoupled_weight_decay)
//   g = g + wd * θ                   Adam (L2 added to the gradient)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g²
//   v_max = max(v_max, v)            if amsgrad (the denominator then uses v_max)
//   d = sqrt(v) / sqrt(1 - beta2^t) + eps        (eps outside the bias-corrected root)
//   θ = θ - lr / (1 - beta1^t) * m / d
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false, maximize = false;
  bool decoupled_weight_decay = false;  // true: AdamW
  void validate() const;
};

// AdamW's defaults: weight_decay 1e-2, decoupled.
AdamOptions adamw_options();

// max_exp_avg_sq may be empty unless amsgrad.
void adam_step(std::span<float> param, std::span<const float> grad, std::span<float> exp_avg,
               std::span<float> exp_avg_sq, std::span<float> max_exp_avg_sq, const AdamOptions& options,
               std::int64_t step);

struct AdamRule {
  using Options = AdamOptions;
  static constexpr std::string_view name = "adam";
  static constexpr bool supports_rows = false;
  static std::span<const Field<Options>> fields();
  static StateNames<3> state_names(const Options& o);
  static float initial_value(const Options&, std::string_view) { return 0.0f; }
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t step);
};
// AdamW: the same kernel with decoupled weight decay; its own name in state dicts and the registry.
struct AdamWRule : AdamRule {
  struct Options : AdamOptions {
    Options() : AdamOptions(adamw_options()) {}
    Options(const AdamOptions& o) : AdamOptions(o) {}  // NOLINT: implicit on purpose
  };
  static constexpr std::string_view name = "adamw";
  static std::span<const Field<Options>> fields();
  static StateNames<3> state_names(const Options& o) { return AdamRule::state_names(o); }
  static float initial_value(const Options&, std::string_view) { return 0.0f; }
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t t) {
    AdamRule::step(o, param, grad, state, t);
  }
};
using Adam = RuleOptimizer<AdamRule>;
using AdamW = RuleOptimizer<AdamWRule>;

}  // namespace adakit::optim
