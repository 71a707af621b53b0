// Shampoo — Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic Tensor Optimization",
// ICML 2018, Algorithm 1 (matrices) and its order-1 case (vectors), with the blocking and the
// grafting of Distributed Shampoo (Anil, Gupta, Koren, Regan & Singer, "Scalable Second Order
// Optimization for Deep Learning", arXiv:2002.09018, 2020; Shi et al., arXiv:2309.06497, 2023).
//
// A matrix parameter [m, n] (rank >= 3: [d0 · ... · d_{k-2}, d_{k-1}]) is cut into tiles of at most
// block_size x block_size; each tile is its own Shampoo. For a tile's gradient G (m_b x n_b), at
// step t = 1, 2, ... (statistics from 0; eps plays the paper's L_0 = εI, R_0 = εI):
//   L  = L + G Gᵀ,  R = R + Gᵀ G
//   L⁻ = (L + εI)^{-1/4},  R⁻ = (R + εI)^{-1/4}     recomputed when (t - 1) % precondition_every == 0
//   D  = L⁻ G R⁻
// A vector parameter (rank 0 or 1) is the paper's order-1 tensor: blocks of at most block_size,
//   L  = L + g gᵀ,  D = (L + εI)^{-1/2} g                          (full-matrix AdaGrad)
// Grafting (graft = true, default): the tile's direction takes the norm of diagonal AdaGrad's step
// on the same tile, as Distributed Shampoo's AdaGrad grafting (per block, as Shi et al.):
//   s  = s + g²,  A = g / (√s + graft_eps),  D = D · ‖A‖ / ‖D‖      (D unchanged where ‖D‖ = 0)
// and finally θ = θ - lr · D. Grafting is also what keeps stale roots (precondition_every > 1)
// stable: without it a stale root has no bound on its step (see adagrad_full.hpp), so use
// graft = false with precondition_every = 1.
// Roots come from symmetric eigendecompositions (LAPACK dsyevd in double); a statistic's numerical
// null space gets no step (src/optim/linalg.hpp). L and R are kept as float pairs (hi + lo,
// ~48 bits, their increments computed in double), as full-matrix AdaGrad's G; the roots in float
// (their condition is the 4th root of the statistic's, the square root for a vector).
//
// State (flat, tiles one after another, each row-major): "L", "L_lo", "L_root" (Σ m_b² each),
// "R", "R_lo", "R_root" (Σ n_b² each, matrices only), "graft_sum" (the parameter's shape, with
// grafting).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct ShampooOptions {
  double lr = 1e-2, eps = 1e-6;
  std::int64_t precondition_every = 1;
  std::int64_t block_size = 128;
  bool graft = true;
  double graft_eps = 1e-10;
  void validate() const;
};

// The matrix Shampoo sees for a parameter shape: {rows, cols}, or {n} for a vector (rank 0 or 1).
Shape shampoo_view(const Shape& shape);

// A matrix [rows, cols] (left/right the tiles' L and R, their roots) or, with rows = 1 and
// right/right_root empty, a vector of cols coordinates.
struct ShampooState {
  std::span<float> left, left_lo, left_root, right, right_lo, right_root, graft_sum;
};
void shampoo_step(std::span<float> param, std::span<const float> grad, const Shape& view, const ShampooState& state,
                  const ShampooOptions& options, std::int64_t step);

struct ShampooRule {
  using Options = ShampooOptions;
  static constexpr std::string_view name = "shampoo";
  static std::span<const Field<Options>> fields();
  static std::vector<BufferSpec> state_spec(const Options& o, const Shape& shape);
  static void step(const Options& o, const TensorStep& s);
};
using Shampoo = RuleOptimizer<ShampooRule>;

}  // namespace adakit::optim
