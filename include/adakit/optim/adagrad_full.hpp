// Full-matrix AdaGrad — Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
// Stochastic Optimization", JMLR 12 (2011), Section 1.1 / Figure 1 (full matrix), composite step with φ = 0.
//
// The parameter is seen as one vector θ (flattened), cut into consecutive blocks of at most
// block_size coordinates; each block b is its own full-matrix AdaGrad (block-diagonal G). For each
// block, at step t = 1, 2, ...:
//   G   = G + g gᵀ                                         (the block's statistics, from G = 0)
//   P   = (δI + G^{1/2})^{-1}    eps_mode = outside (the paper's H_t = δI + G_t^{1/2}; default)
//   P   = (δI + G)^{-1/2}        eps_mode = inside
//         recomputed when (t - 1) % precondition_every == 0, else the last P (stale, as Shampoo)
//   u   = P g;  with a stale P, u = u / max(1, ‖u‖)
//   θ   = θ - lr · u
// A fresh step obeys ‖P g‖ <= 1 (G ⪰ g gᵀ), which is what keeps AdaGrad stable; a stale P has no
// such bound (a direction it has not seen can get a step of 1/δ), so stale steps are held to it.
// Without this, precondition_every = 10 diverged on the rotated quadratic at every lr tried.
// P comes from a symmetric eigendecomposition of G (LAPACK dsyevd in double, through OpenBLAS);
// G's numerical null space (eigenvalues at its rounding level, n · 2⁻⁴⁶ · λ_max) gets no step: a
// fresh g lies in G's range, so the exact update has no component there (src/optim/linalg.hpp).
// G and P are kept as float pairs (hi + lo, ~48 significant bits): G's condition is the square of
// the problem's (1e8 for a condition of 1e4) and P's its square root, beyond float32's 24 bits — in
// float32 the flat directions of an ill-conditioned problem are lost. With block_size = 1 and the
// defaults this is diagonal AdaGrad (PyTorch's eps placement).
//
// State: "stats", "stats_lo" (G = hi + lo) and "preconditioner", "preconditioner_lo" (P), each the
// blocks one after another, row-major n_b x n_b, flat: 4 Σ n_b² floats. Per step O(Σ n_b²) =
// O(N · block_size), plus O(Σ n_b³) every precondition_every steps. Meant for parameters up to a
// few thousand coordinates per block.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdagradFullOptions {
  double lr = 1e-2, eps = 1e-10;
  EpsMode eps_mode = EpsMode::outside;
  std::int64_t precondition_every = 1;  // recompute P every k steps
  std::int64_t block_size = 1024;       // coordinates per diagonal block
  void validate() const;
};

// Floats of each state buffer for a parameter of n coordinates.
std::int64_t adagrad_full_state_size(std::int64_t n, std::int64_t block_size);

// G and P as float pairs (hi, lo), each adagrad_full_state_size floats.
struct AdagradFullState {
  std::span<float> stats, stats_lo, preconditioner, preconditioner_lo;
};
void adagrad_full_step(std::span<float> param, std::span<const float> grad, const AdagradFullState& state,
                       const AdagradFullOptions& options, std::int64_t step);

struct AdagradFullRule {
  using Options = AdagradFullOptions;
  static constexpr std::string_view name = "adagrad-full";
  static std::span<const Field<Options>> fields();
  static std::vector<BufferSpec> state_spec(const Options& o, const Shape& shape);
  static void step(const Options& o, const TensorStep& s);
};
using AdagradFull = RuleOptimizer<AdagradFullRule>;

}  // namespace adakit::optim
