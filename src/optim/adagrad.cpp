#include "adakit/optim/adagrad.hpp"

#include <array>
#include <cmath>
#include <vector>

#include "adakit/core/parallel.hpp"
#include "adakit/core/prefetch.hpp"
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

// The step of adagrad.hpp over a block, every flag a compile-time constant of the instantiation.
template <bool kDecay, bool kInside, bool kAfter, bool kZeroWhere>
void adagrad_block(float* __restrict p, const float* __restrict g, float* __restrict s, std::int64_t n, float clr,
                   float wd, float eps, float sign) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gi = sign * g[i];
    if constexpr (kDecay) gi += wd * p[i];
    p[i] -= clr * adagrad_scale<kInside, kAfter, kZeroWhere>(gi, gi, s[i], eps);
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

// Row prefetch for the sparse step: rows of a large table are cache misses, and the sorted order tells
// which come next. Write hints, one per 64-byte line.
constexpr std::int64_t kPrefetchAhead = 4;
void prefetch_row(const float* table, const float* sum, std::int64_t offset, std::int64_t dim) {
  for (std::int64_t j = 0; j < dim; j += 16) {
    prefetch_hint(table + offset + j, true);
    prefetch_hint(sum + offset + j, true);  // the same line as the parameters' when interleaved: cheap
  }
}

// The sparse step on the sorted positions [b, e) of an n-position batch (sort_row_positions), after
// moving b and e forward to row boundaries. A row that occurs once is updated straight from its
// gradient; only runs of duplicates are summed, in position order (sum_rows_in_order), into a scratch
// row. One instantiation per flag set, with the block inlined; plain arguments rather than lambda
// captures, which were reloaded from memory for every row (15-20% slower on the 1M x 64 benchmark).
template <bool kInside, bool kAfter, bool kZeroWhere>
void update_sorted_rows(float* table, float* sum, std::int64_t dim, std::int64_t stride, const std::int64_t* idx,
                        const std::int64_t* pos, std::int64_t n, std::int64_t b, std::int64_t e,
                        const float* row_grads, float clr, float eps, float sign) {
  auto row_at = [idx, pos](std::int64_t k) { return idx[pos[k]]; };
  while (b > 0 && b < n && row_at(b) == row_at(b - 1)) ++b;
  while (e < n && row_at(e) == row_at(e - 1)) ++e;
  thread_local std::vector<float> run_sum;  // the calling thread's own
  run_sum.resize(static_cast<std::size_t>(dim));
  const std::span<const float> grads(row_grads, static_cast<std::size_t>(n * dim));
  for (std::int64_t k = b; k < e;) {
    if (k + kPrefetchAhead < e) prefetch_row(table, sum, row_at(k + kPrefetchAhead) * stride, dim);
    const std::int64_t row = row_at(k);
    std::int64_t end = k + 1;
    while (end < e && row_at(end) == row) ++end;
    const float* g = row_grads + pos[k] * dim;
    if (end - k > 1) {
      sum_rows_in_order(grads, dim, std::span(pos + k, static_cast<std::size_t>(end - k)), run_sum.data());
      g = run_sum.data();
    }
    adagrad_block<false, kInside, kAfter, kZeroWhere>(table + row * stride, g, sum + row * stride, dim, clr, 0.0f,
                                                      eps, sign);
    k = end;
  }
}

using RowsFn = void (*)(float*, float*, std::int64_t, std::int64_t, const std::int64_t*, const std::int64_t*,
                        std::int64_t, std::int64_t, std::int64_t, const float*, float, float, float);

RowsFn pick_rows(const AdagradOptions& o) {  // weight decay is refused with sparse gradients
  RowsFn fn = nullptr;
  detail::with_flag(o.eps_mode == EpsMode::inside, [&](auto inside) {
    detail::with_flag(o.accumulate_after_update, [&](auto after) {
      detail::with_flag(o.zero_update_where_sum_zero, [&](auto zw) {
        fn = &update_sorted_rows<decltype(inside)::value, decltype(after)::value, decltype(zw)::value>;
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

namespace {

// adagrad_step_rows over `rows` rows: row r's parameters at table + r * stride, its sums at sum + r * stride.
void step_rows(const char* who, float* table, float* sum, std::int64_t rows, std::int64_t dim, std::int64_t stride,
               std::span<const std::int64_t> indices, std::span<const float> row_grads, const AdagradOptions& options,
               std::int64_t step) {
  detail::check_step(who, step);
  if (options.weight_decay != 0.0)
    throw UsageError("adagrad: weight_decay is not supported with sparse gradients (as in PyTorch)",
                     {"", 0, "weight_decay"});
  const auto n = static_cast<std::int64_t>(indices.size());
  if (static_cast<std::int64_t>(row_grads.size()) != n * dim)
    throw UsageError(std::string(who) + ": " + std::to_string(n) + " indices of dim " + std::to_string(dim) + " need " +
                     std::to_string(n * dim) + " row_grads values, got " + std::to_string(row_grads.size()));
  // Scratch kept per calling thread (no allocation once warm). Bound to a reference here: inside the
  // parallel region a thread_local name would mean the worker's own, empty copy.
  thread_local std::vector<std::int64_t> order_scratch;
  std::vector<std::int64_t>& order = order_scratch;
  sort_row_positions(indices, rows, order);  // checks the indices before anything is written
  const RowsFn update = pick_rows(options);
  const float clr = current_lr(options, step);
  const auto eps = static_cast<float>(options.eps);
  const float sign = options.maximize ? -1.0f : 1.0f;
  // Threads take contiguous ranges of the sorted positions, moved to row boundaries, so each row is
  // updated by one thread.
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kGrain / dim);
  parallel_for(n, grain, [&](std::int64_t b, std::int64_t e) {
    update(table, sum, dim, stride, indices.data(), order.data(), n, b, e, row_grads.data(), clr, eps, sign);
  });
}

}  // namespace

void adagrad_step_rows(std::span<float> table, std::span<float> sum, std::int64_t dim,
                       std::span<const std::int64_t> indices, std::span<const float> row_grads,
                       const AdagradOptions& options, std::int64_t step) {
  detail::check_same_size("adagrad_step_rows", "sum", sum.size(), table.size());
  if (dim <= 0 || table.size() % static_cast<std::size_t>(dim) != 0)
    throw UsageError("adagrad_step_rows: table of " + std::to_string(table.size()) +
                     " elements is not a whole number of rows of dim " + std::to_string(dim));
  step_rows("adagrad_step_rows", table.data(), sum.data(), static_cast<std::int64_t>(table.size()) / dim, dim, dim,
            indices, row_grads, options, step);
}

void adagrad_step_rows_interleaved(std::span<float> table, std::int64_t stride, std::int64_t sum_offset,
                                   std::int64_t dim, std::span<const std::int64_t> indices,
                                   std::span<const float> row_grads, const AdagradOptions& options, std::int64_t step) {
  if (dim <= 0 || sum_offset < dim || sum_offset + dim > stride || table.size() % static_cast<std::size_t>(stride) != 0)
    throw UsageError("adagrad_step_rows_interleaved: rows of " + std::to_string(stride) + " floats cannot hold " +
                     std::to_string(dim) + " parameters and their sums from offset " + std::to_string(sum_offset) +
                     " (table of " + std::to_string(table.size()) + " floats)");
  step_rows("adagrad_step_rows_interleaved", table.data(), table.data() + sum_offset,
            static_cast<std::int64_t>(table.size()) / stride, dim, stride, indices, row_grads, options, step);
}

AdagradOptions adagrad_convention(std::string_view name) {
  namespace c = adagrad_conventions;
  if (name == "pytorch") return c::pytorch;
  if (name == "keras") return c::keras;
  if (name == "optax") return c::optax;
  if (name == "tf1") return c::tf1;
  if (name == "glove") return c::glove;
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

StateNames<1> AdagradRule::state_names(const Options&) { return {{"sum"}}; }

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
