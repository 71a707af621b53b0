// Adafactor — Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost",
// ICML 2018, Algorithms 4 and 5 (factored and not), with relative step size, update clipping and
// the defaults of the paper and of Optax's optax.adafactor (factoring rule, ε placement).
//
// Step t = 1, 2, ... with β̂ = 1 - t^(-decay_rate) (so β̂ = 0 at t = 1) and q = g² + eps:
//   factored (rank >= 2, factored = true, second-largest dimension >= min_dim_size_to_factor), over
//   the two largest axes (Optax's choice; for a matrix [m, n] its rows and columns):
//     v_row = β̂ v_row + (1 - β̂) mean of q over the columns      ([m]; other axes kept)
//     v_col = β̂ v_col + (1 - β̂) mean of q over the rows         ([n])
//     V̂     = v_row v_colᵀ / mean(v_row)                          (= R C / 1ᵀR of the paper)
//   otherwise:
//     v     = β̂ v + (1 - β̂) q,  V̂ = v
//   u = g / √V̂
//   u = u / max(1, RMS(u) / clip_threshold)                        (clip_threshold = 0: no clipping)
//   ρ = min(lr, 1/√t) if relative_step, else lr                   (the paper: min(1e-2, 1/√t))
//   α = max(eps2, RMS(θ)) · ρ if scale_parameter, else ρ
//   s = α u;  if beta1 > 0: m = beta1 m + (1 - beta1) s, s = m   (buffer "exp_avg")
//   θ = θ - s
// (A zero second moment, possible only with eps = 0 and g = 0, gives u = 0.)
// State "v_row", "v_col" when factored (Σ of the two dimensions' sizes for a matrix), else "v".
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdafactorOptions {
  double lr = 1e-2;              // ρ, or its cap with relative_step
  bool relative_step = true;
  bool scale_parameter = true;
  double decay_rate = 0.8;
  double clip_threshold = 1.0;
  double eps = 1e-30;            // ε1, added to g²
  double eps2 = 1e-3;            // ε2, smallest parameter scale
  double beta1 = 0.0;
  bool factored = true;
  std::int64_t min_dim_size_to_factor = 128;
  void validate() const;
};

// The two axes Adafactor factors for `shape` under `options` ({lo, hi}, lo < hi), or none.
struct AdafactorAxes {
  bool factored = false;
  std::size_t lo = 0, hi = 0;
};
AdafactorAxes adafactor_axes(const Shape& shape, const AdafactorOptions& options);

// v_row, v_col when factored (v empty), else v (v_row, v_col empty); exp_avg empty unless beta1 > 0.
struct AdafactorState {
  std::span<float> v_row, v_col, v, exp_avg;
};
void adafactor_step(std::span<float> param, std::span<const float> grad, const Shape& shape,
                    const AdafactorState& state, const AdafactorOptions& options, std::int64_t step);

struct AdafactorRule {
  using Options = AdafactorOptions;
  static constexpr std::string_view name = "adafactor";
  static std::span<const Field<Options>> fields();
  static std::vector<BufferSpec> state_spec(const Options& o, const Shape& shape);
  static void step(const Options& o, const TensorStep& s);
};
using Adafactor = RuleOptimizer<AdafactorRule>;

}  // namespace adakit::optim
