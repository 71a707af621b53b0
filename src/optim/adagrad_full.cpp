#include "adakit/optim/adagrad_full.hpp"

#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "kernel_util.hpp"
#include "linalg.hpp"

namespace adakit::optim {

void AdagradFullOptions::validate() const {
  require_finite_nonnegative("adagrad-full", "lr", lr);
  require_finite_nonnegative("adagrad-full", "eps", eps);
  require_at_least("adagrad-full", "precondition_every", precondition_every, 1);
  require_at_least("adagrad-full", "block_size", block_size, 1);
  if (block_size > 16384)
    throw UsageError("adagrad-full: block_size must be <= 16384 (a block's two matrices take 8 block_size^2 bytes), got " +
                         std::to_string(block_size),
                     {"", 0, "block_size"});
}

std::int64_t adagrad_full_state_size(std::int64_t n, std::int64_t block_size) {
  const std::int64_t full = n / block_size, rest = n % block_size;
  return full * block_size * block_size + rest * rest;
}

void adagrad_full_step(std::span<float> param, std::span<const float> grad, const AdagradFullState& st,
                       const AdagradFullOptions& o, std::int64_t step) {
  detail::check_same_size("adagrad_full_step", "grad", grad.size(), param.size());
  detail::check_step("adagrad_full_step", step);
  const auto n = static_cast<std::int64_t>(param.size());
  const std::int64_t B = o.block_size, size = adagrad_full_state_size(n, B);
  for (auto [what, buffer] : {std::pair{"stats", st.stats}, std::pair{"stats_lo", st.stats_lo},
                              std::pair{"preconditioner", st.preconditioner}, std::pair{"preconditioner_lo", st.preconditioner_lo}})
    detail::check_same_size("adagrad_full_step", what, buffer.size(), static_cast<std::size_t>(size));
  const bool refresh = (step - 1) % o.precondition_every == 0;
  const double eps = o.eps;
  const bool inside = o.eps_mode == EpsMode::inside;
  const double lr = o.lr;
  const double side = static_cast<double>(std::min(n, B));
  const double work = static_cast<double>(n) * side * (refresh ? 10.0 * side : 2.0);
  detail::for_each_block(detail::block_count(n, B), work, [&](std::int64_t b) {
    const std::int64_t nb = detail::block_len(n, B, b);
    const auto off = static_cast<std::size_t>(b * B);
    float* __restrict th = param.data() + off;
    const float* __restrict g = grad.data() + off;
    const std::int64_t at = b * B * B;  // all blocks before b are full
    float* G = st.stats.data() + at;
    float* Glo = st.stats_lo.data() + at;
    float* P = st.preconditioner.data() + at;
    float* Plo = st.preconditioner_lo.data() + at;
    for (std::int64_t i = 0; i < nb; ++i) {  // G += g gᵀ (float pair; the products are exact in double)
      const double gi = g[i];
      for (std::int64_t j = 0; j < nb; ++j) detail::pair_add(G[i * nb + j], Glo[i * nb + j], gi * g[j]);
    }
    const auto nn = static_cast<std::size_t>(nb * nb);
    if (refresh) {
      auto m = detail::pair_matrix({G, nn}, {Glo, nn});
      const auto r = inside ? detail::symmetric_function(std::move(m), nb, [eps](double lam) { return 1.0 / std::sqrt(lam + eps); })
                            : detail::symmetric_function(std::move(m), nb, [eps](double lam) { return 1.0 / (std::sqrt(lam) + eps); });
      for (std::size_t i = 0; i < nn; ++i) {
        P[i] = static_cast<float>(r[i]);
        Plo[i] = static_cast<float>(r[i] - static_cast<double>(P[i]));
      }
    }
    std::vector<double> u(static_cast<std::size_t>(nb), 0.0);  // u = P g, in double from the pair
    for (std::int64_t i = 0; i < nb; ++i) {
      double acc = 0.0;
      const float* ph = P + i * nb;
      const float* pl = Plo + i * nb;
#pragma omp simd reduction(+ : acc)
      for (std::int64_t j = 0; j < nb; ++j) acc += (static_cast<double>(ph[j]) + static_cast<double>(pl[j])) * g[j];
      u[static_cast<std::size_t>(i)] = acc;
    }
    if (!refresh) {  // a stale P: keep the bound a fresh step obeys, ‖P g‖ <= 1
      double norm2 = 0.0;
      for (double x : u) norm2 += x * x;
      if (norm2 > 1.0)
        for (auto& x : u) x /= std::sqrt(norm2);
    }
    for (std::int64_t i = 0; i < nb; ++i) th[i] -= static_cast<float>(lr * u[static_cast<std::size_t>(i)]);
  });
}

std::span<const Field<AdagradFullOptions>> AdagradFullRule::fields() {
  using O = AdagradFullOptions;
  static const std::array<Field<O>, 5> table{{
      {"lr", &O::lr, "learning rate"},
      {"eps", &O::eps, "added to the denominator"},
      {"eps_mode", &O::eps_mode, "outside: sqrt(s)+eps | inside: sqrt(s+eps)"},
      {"precondition_every", &O::precondition_every, "adagrad-full, shampoo: recompute the preconditioner every k steps"},
      {"block_size", &O::block_size, "adagrad-full, shampoo: largest preconditioned block (dimensions above are split)"},
  }};
  return table;
}

std::vector<BufferSpec> AdagradFullRule::state_spec(const Options& o, const Shape& shape) {
  const std::int64_t size = adagrad_full_state_size(shape_numel(shape), o.block_size);
  return {{"stats", {size}, 0.0f}, {"stats_lo", {size}, 0.0f}, {"preconditioner", {size}, 0.0f},
          {"preconditioner_lo", {size}, 0.0f}};
}

void AdagradFullRule::step(const Options& o, const TensorStep& s) {
  adagrad_full_step(s.param, s.grad, {s.state[0], s.state[1], s.state[2], s.state[3]}, o, s.step);
}

}  // namespace adakit::optim
