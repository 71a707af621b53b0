// AdaGrad — Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
// Optimization", JMLR 12 (2011), diagonal version.
//
// One step, for step t = 1, 2, ... (every operation elementwise, s starts at initial_accumulator_value):
//   g   = -g                if maximize
//   g   = g + wd * θ        (weight_decay, L2 added to the gradient)
//   clr = lr / (1 + (t - 1) * lr_decay)
//   s'  = s + g²
//   u   = s'   (or u = s, the sum BEFORE this gradient, when accumulate_after_update: GloVe's order)
//   d   = sqrt(u) + eps     eps_mode = outside (PyTorch)
//   d   = sqrt(u + eps)     eps_mode = inside  (Keras 3, Optax, TF)
//   θ   = θ - clr * g / d   (the update is 0 where u == 0 when zero_update_where_sum_zero: Optax)
//   s   = s'
// With the defaults this is torch.optim.Adagrad exactly (PyTorch 1.13+).
//
// Row-sparse step: the same formula on the rows a sparse gradient touches, duplicates summed first
// (as PyTorch coalesces), in the order they appear; rows not touched are not read or written, so it
// equals the dense step whenever the untouched rows' gradients are zero. Weight decay with sparse
// gradients is an error. Rows that occur once are updated straight from the gradient (no copy);
// threads split the row-sorted batch at row boundaries, so results don't depend on the thread count.
//
// Named conventions (adagrad_convention): pytorch (default) | keras (s0 = 0.1, eps = 1e-7 inside) |
// optax (s0 = 0.1, eps = 1e-7 inside, zero update where s = 0) | tf1 (s0 = 0.1, no eps: tf.compat.v1
// AdagradOptimizer) | glove (s0 = 1, no eps, step uses the sum before the current gradient: the order
// of Pennington et al. 2014's reference glove.c). glove.c folds its learning rate eta into the
// gradient before accumulating (θ -= η·g / sqrt(1 + Σ (η·g)²)), so it equals this preset with lr = 1
// fed the gradient η·g, not this preset with lr = η (which gives θ -= η·g / sqrt(1 + Σ g²)); the
// embed/ trainer follows glove.c exactly (embed/glove.hpp).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdagradOptions {
  double  lr = 1e-2, lr_decay = 0.0, weight_decay = 0.0, initial_accumulator_value = 0.0, eps = 1e-10;
  EpsMode eps_mode = EpsMode::outside;
  bool    maximize = false;
  bool    zero_update_where_sum_zero = false;  // Optax's scale_by_rss: no update while s == 0
  bool    accumulate_after_update = false;     // GloVe: θ uses s before adding g²

  void validate() const;  // UsageError naming the field on a negative or non-finite value
};

// One step on a flat block. `step` counts from 1; `sum` starts at initial_accumulator_value.
void adagrad_step(std::span<float> param, std::span<const float> grad, std::span<float> sum,
                  const AdagradOptions& options, std::int64_t step);
// One step on the rows of a row-major [rows x dim] table that a sparse gradient touches:
// row_grads holds indices.size() rows of dim values; duplicate indices are summed first.
void adagrad_step_rows(std::span<float> table, std::span<float> sum, std::int64_t dim,
                       std::span<const std::int64_t> indices, std::span<const float> row_grads,
                       const AdagradOptions& options, std::int64_t step);
// The same step over a table that keeps each row's sums next to its parameters (one cache line for
// both: linear::LinearModel's rows): row r is table[r * stride, (r + 1) * stride), its dim parameters
// first, its dim sums from sum_offset (dim <= sum_offset, sum_offset + dim <= stride).
void adagrad_step_rows_interleaved(std::span<float> table, std::int64_t stride, std::int64_t sum_offset,
                                   std::int64_t dim, std::span<const std::int64_t> indices,
                                   std::span<const float> row_grads, const AdagradOptions& options, std::int64_t step);

// Presets: "pytorch", "keras", "optax", "tf1", "glove". UsageError for another name.
AdagradOptions adagrad_convention(std::string_view name);
std::span<const std::string_view> adagrad_convention_names();

struct AdagradRule {
  using Options = AdagradOptions;
  static constexpr std::string_view name = "adagrad";
  static constexpr bool supports_rows = true;
  // adagrad_step_rows refuses weight_decay (as PyTorch does).
  static bool rows_supported(const Options& o) { return o.weight_decay == 0.0; }
  static std::span<const Field<Options>> fields();
  static StateNames<1> state_names(const Options& o);
  static float initial_value(const Options& o, std::string_view state);
  static void step(const Options& o, std::span<float> param, std::span<const float> grad,
                   std::span<const std::span<float>> state, std::int64_t step);
  static void step_rows(const Options& o, std::span<float> table, std::int64_t dim,
                        std::span<const std::int64_t> indices, std::span<const float> row_grads,
                        std::span<const std::span<float>> state, std::int64_t step);
};

// ensmallen-style: the optimizer class is the generic loop over the AdaGrad rule.
using Adagrad = RuleOptimizer<AdagradRule>;

}  // namespace adakit::optim
