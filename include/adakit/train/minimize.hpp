// Minimising built-in test functions with any optimizer: the tutorial's first example done right
// (the optimizer and its state live across all steps).
//   quadratic        f = Σ x_i²                                        (min 0 at 0)
//   ill-conditioned  f = Σ c_i x_i², c_i = 10^(4 i / (n-1)): scales 1 .. 1e4
//   rosenbrock       f = Σ 100 (x_{i+1} - x_i²)² + (1 - x_i)²          (min 0 at 1; Rosenbrock 1960)
//   beale            f = (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²   (min 0 at (3, 0.5))
//   sparse           f = Σ x_i², but coordinate i receives its gradient 2 x_i only with probability
//                    p_i = 10^(-2 i / (n-1)) at each step (1 .. 0.01), else 0 — AdaGrad's case
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/rng.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::train {

struct TestFunction {
  std::string name;
  std::int64_t dim = 0;
  std::vector<float> x0;         // default start
  std::vector<float> minimizer;  // a global minimiser
  std::function<double(std::span<const float>)> value;
  // Writes the (possibly stochastic) gradient at x into g.
  std::function<void(std::span<const float> x, std::span<float> g, Rng& rng)> gradient;
};

struct TestFunctionInfo {
  std::string_view name;
  std::string_view summary;
  std::int64_t default_dim;
  bool fixed_dim;  // beale is 2-D only
};
std::span<const TestFunctionInfo> test_functions();
// dim <= 0: the function's default. UsageError on an unknown name or a dim it does not take.
TestFunction make_test_function(std::string_view name, std::int64_t dim = 0);

struct MinimizeOptions {
  std::string optimizer = "adagrad";
  optim::OptionMap optimizer_options;
  std::string schedule = "constant";
  double clip_norm = 0.0, clip_value = 0.0;
  std::int64_t steps = 1000;
  std::vector<float> x0;  // empty: the function's default; one value: broadcast
  std::uint64_t seed = 0;
};

struct TraceRow {
  std::int64_t step;
  double loss;
  std::span<const float> x;
  std::span<const float> grad;
  std::span<const double> effective_lr;  // |Δx_i / g_i|, NaN where g_i == 0
};

struct MinimizeResult {
  std::vector<float> x;
  double initial_loss = 0.0;
  double loss = 0.0;
  std::int64_t steps = 0;
  bool finite = true;  // false when the run diverged (loss or x not finite); it stops there
};

MinimizeResult minimize(const TestFunction& f, const MinimizeOptions& options,
                        const std::function<void(const TraceRow&)>& on_step = {});

}  // namespace adakit::train
