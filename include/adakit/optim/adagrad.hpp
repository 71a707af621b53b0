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
//
// The formula is written once, per coordinate, below (adagrad_scale, adagrad_denominator), in float
// or double: optim's kernels (float), embed's GloVe trainer and linear's adagrad-l1 and adagrad-rda
// (double) and the tour's effective learning rates all call it.
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

// ---- the formula, one coordinate, in the caller's precision T ----

// The denominator d from the sum u: √u + eps (kInside false: EpsMode::outside) or √(u + eps) (true).
template <bool kInside, class T>
inline T adagrad_denominator(T u, T eps) {
  if constexpr (kInside) return std::sqrt(u + eps);
  else return std::sqrt(u) + eps;
}
// The same with the mode known at run time (outside hot loops).
template <class T>
inline T adagrad_denominator(T u, T eps, EpsMode mode) {
  return mode == EpsMode::inside ? adagrad_denominator<true>(u, eps) : adagrad_denominator<false>(u, eps);
}

// One coordinate with gradient g: s ← s + g², and returns x / d with d from u = s + g² (or from u = s,
// the sum before g², when kAfter: accumulate_after_update), 0 where u == 0 when kZeroWhere. x is what
// the step divides, so each caller keeps its order of rounding:
//   x = g     θ −= clr · (x / d)       optim's kernels (PyTorch's addcdiv)
//   x = η g   θ −= x / d               embed's GloVe trainer (glove.c)
//   x = lr    lr / d, the coordinate's step size   linear's adagrad-l1 (a proximal step)
// Flags are template parameters so that loops over it stay branch-free and vectorise.
template <bool kInside, bool kAfter, bool kZeroWhere, class T>
inline T adagrad_scale(T x, T g, T& s, T eps) {
  const T s_new = s + g * g;
  const T u = kAfter ? s : s_new;
  T r = x / adagrad_denominator<kInside>(u, eps);
  if constexpr (kZeroWhere) r = u > T(0) ? r : T(0);
  s = s_new;
  return r;
}

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

// The named conventions (the top of this file), as constants: a kernel may take its flags from one
// at compile time (embed's GloVe trainer runs `glove` and `pytorch`).
namespace adagrad_conventions {
inline constexpr AdagradOptions pytorch{};
inline constexpr AdagradOptions keras{
    .initial_accumulator_value = 0.1, .eps = 1e-7, .eps_mode = EpsMode::inside};
inline constexpr AdagradOptions optax{
    .initial_accumulator_value = 0.1, .eps = 1e-7, .eps_mode = EpsMode::inside, .zero_update_where_sum_zero = true};
inline constexpr AdagradOptions tf1{.initial_accumulator_value = 0.1, .eps = 0.0, .eps_mode = EpsMode::inside};
inline constexpr AdagradOptions glove{.initial_accumulator_value = 1.0, .eps = 0.0, .accumulate_after_update = true};
}  // namespace adagrad_conventions

// A coordinate's effective learning rate lr / d for the sum s, eps placed as options.eps_mode says,
// in double (lr_decay not applied): what the tour plots.
inline double adagrad_effective_lr(const AdagradOptions& options, double sum) {
  return options.lr / adagrad_denominator(sum, options.eps, options.eps_mode);
}

// Presets by name: "pytorch", "keras", "optax", "tf1", "glove". UsageError for another name.
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
