#include "adakit/optim/adagrad.hpp"

#include <array>
#include <cmath>
#include <vector>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void AdagradOptions::validate() const {
  require_finite_nonnegative("adagrad", "lr", lr);
  require_finite_nonnegative("adagrad", "lr_decay", lr_decay);
  require_finite_nonnegative("adagrad", "weight_decay", weight_decay);
  require_finite_nonnegative("adagrad", "initial_accumulator_value", initial_accumulator_value);
  require_finite_nonnegative("adagrad", "eps", eps);
}

namespace {

// The formula of adagrad.hpp, once. Every flag is a compile-time constant of the instantiation.
template <bool kDecay, bool kInside, bool kAfter, bool kZeroWhere>
void adagrad_block(float* __restrict p, const float* __restrict g, float* __restrict s, std::int64_t n, float clr,
                   float wd, float eps, float sign) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    if constexpr (kDecay) gi += wd * p[i];
    const float s_new = s[i] + gi * gi;
    const float u = kAfter ? s[i] : s_new;
    const float d = kInside ? std::sqrt(u + eps) : std::sqrt(u) + eps;
    float step = gi / d;
    if constexpr (kZeroWhere) step = u > 0.0f ? step : 0.0f;
    p[i] -= clr * step;
    s[i] = s_new;
  }
}

using BlockFn = void (*)(float*, const float*, float*, std::int64_t, float, float, float, float);

BlockFn pick_block(const AdagradOptions& o) {
  BlockFn fn = nullptr;
  detail::with_flag(o.weight_decay != 0.0, [&](auto wd) {
    detail::with_flag(o.eps_mode == EpsMode::inside, [&](auto inside) {
      detail::with_flag(o.accumulate_after_update, [&](auto after) {
        detail::with_flag(o.zero_update_where_sum_zero, [&](auto zw) {
          fn = &adagrad_block<decltype(wd)::value, decltype(inside)::value, decltype(after)::value,
                              decltype(zw)::value>;
        });
      });
    });
  });
  return fn;
}

float current_lr(const AdagradOptions& o, std::int64_t step) {
  return static_cast<float>(o.lr / (1.0 + static_cast<double>(step - 1) * o.lr_decay));
}

}  // namespace

void adagrad_step(std::span<float> param, std::span<const float> grad, std::span<float> sum,
                  const AdagradOptions& options, std::int64_t step) {
  detail::check_same_size("adagrad_step", "grad", grad.size(), param.size());
  detail::check_same_size("adagrad_step", "sum", sum.size(), param.size());
  detail::check_step("adagrad_step", step);
  const BlockFn block = pick_block(options);
  const float clr = current_lr(options, step);
  const auto wd = static_cast<float>(options.weight_decay), eps = static_cast<float>(options.eps);
  const float sign = options.maximize ? -1.0f : 1.0f;
  parallel_for(static_cast<std::int64_t>(param.size()), detail::kGrain, [&](std::int64_t b, std::int64_t e) {
    block(param.data() + b, grad.data() + b, sum.data() + b, e - b, clr, wd, eps, sign);
  });
}

void adagrad_step_rows(std::span<float> table, std::span<float> sum, std::int64_t dim,
                       std::span<const std::int64_t> indices, std::span<const float> row_grads,
                       const AdagradOptions& options, std::int64_t step) {
  detail::check_same_size("adagrad_step_rows", "sum", sum.size(), table.size());
  detail::check_step("adagrad_step_rows", step);
  if (dim <= 0 || table.size() % static_cast<std::size_t>(dim) != 0)
    throw UsageError("adagrad_step_rows: table of " + std::to_string(table.size()) +
                     " elements is not a whole number of rows of dim " + std::to_string(dim));
  if (options.weight_decay != 0.0)
    throw UsageError("adagrad: weight_decay is not supported with sparse gradients (as in PyTorch)",
                     {"", 0, "weight_decay"});
  const auto rows = static_cast<std::int64_t>(table.size()) / dim;
  // Scratch kept per calling thread (no allocation once warm). Bound to references here: inside the
  // parallel region a thread_local name would mean the worker's own, empty copy.
  thread_local std::vector<std::int64_t> unique_scratch;
  thread_local std::vector<float> summed_scratch;
  std::vector<std::int64_t>& unique = unique_scratch;
  std::vector<float>& summed = summed_scratch;
  coalesce_rows(indices, row_grads, dim, rows, unique, summed);
  const BlockFn block = pick_block(options);
  const float clr = current_lr(options, step);
  const auto eps = static_cast<float>(options.eps);
  const float sign = options.maximize ? -1.0f : 1.0f;
  const auto count = static_cast<std::int64_t>(unique.size());
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kGrain / dim);
  parallel_for(count, grain, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t k = b; k < e; ++k) {
      // Rows of a large table are cache misses: ask for a row a few iterations ahead, so that the
      // misses overlap with the arithmetic instead of stalling it one by one. A hint: no value changes.
      if (k + detail::kPrefetchAhead < e) {
        const std::int64_t ahead = unique[static_cast<std::size_t>(k + detail::kPrefetchAhead)] * dim;
        __builtin_prefetch(table.data() + ahead, 1);
        __builtin_prefetch(sum.data() + ahead, 1);
      }
      const std::int64_t off = unique[static_cast<std::size_t>(k)] * dim;
      block(table.data() + off, summed.data() + k * dim, sum.data() + off, dim, clr, 0.0f, eps, sign);
    }
  });
}

AdagradOptions adagrad_convention(std::string_view name) {
  AdagradOptions o;
  if (name == "pytorch") return o;
  if (name == "keras" || name == "optax" || name == "tf1") {
    o.initial_accumulator_value = 0.1;
    o.eps = name == "tf1" ? 0.0 : 1e-7;
    o.eps_mode = EpsMode::inside;
    o.zero_update_where_sum_zero = name == "optax";
    return o;
  }
  if (name == "glove") {
    o.initial_accumulator_value = 1.0;
    o.eps = 0.0;
    o.accumulate_after_update = true;
    return o;
  }
  throw UsageError("unknown AdaGrad convention '" + std::string(name) + "' (pytorch, keras, optax, tf1, glove)",
                   {"", 0, "convention"});
}

std::span<const std::string_view> adagrad_convention_names() {
  static constexpr std::array<std::string_view, 5> names{"pytorch", "keras", "optax", "tf1", "glove"};
  return names;
}

std::span<const Field<AdagradOptions>> AdagradRule::fields() {
  using O = AdagradOptions;
  static const std::array<Field<O>, 9> table{{
      {"lr", &O::lr, "learning rate"},
      {"lr_decay", &O::lr_decay, "lr / (1 + (t-1) * lr_decay)"},
      {"weight_decay", &O::weight_decay, "L2 penalty added to the gradient"},
      {"initial_accumulator_value", &O::initial_accumulator_value, "starting value of the sum of squares"},
      {"eps", &O::eps, "added to the denominator"},
      {"eps_mode", &O::eps_mode, "outside: sqrt(s)+eps | inside: sqrt(s+eps)"},
      {"maximize", &O::maximize, "ascend instead of descend"},
      {"zero_update_where_sum_zero", &O::zero_update_where_sum_zero, "no update while s == 0 (Optax)"},
      {"accumulate_after_update", &O::accumulate_after_update, "step with s before adding g^2 (GloVe)"},
  }};
  return table;
}

std::vector<std::string_view> AdagradRule::state_names(const Options&) { return {"sum"}; }

float AdagradRule::initial_value(const Options& o, std::string_view) {
  return static_cast<float>(o.initial_accumulator_value);
}

void AdagradRule::step(const Options& o, std::span<float> param, std::span<const float> grad,
                       std::span<const std::span<float>> state, std::int64_t t) {
  adagrad_step(param, grad, state[0], o, t);
}

void AdagradRule::step_rows(const Options& o, std::span<float> table, std::int64_t dim,
                            std::span<const std::int64_t> indices, std::span<const float> row_grads,
                            std::span<const std::span<float>> state, std::int64_t t) {
  adagrad_step_rows(table, state[0], dim, indices, row_grads, o, t);
}

}  // namespace adakit::optim
