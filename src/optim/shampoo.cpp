#include "adakit/optim/shampoo.hpp"

#include <array>
#include <cmath>
#include <vector>

#include "kernel_util.hpp"
#include "linalg.hpp"

namespace adakit::optim {

void ShampooOptions::validate() const {
  require_finite_nonnegative("shampoo", "lr", lr);
  require_finite_nonnegative("shampoo", "eps", eps);
  require_at_least("shampoo", "precondition_every", precondition_every, 1);
  require_at_least("shampoo", "block_size", block_size, 1);
  if (block_size > 16384)
    throw UsageError("shampoo: block_size must be <= 16384, got " + std::to_string(block_size), {"", 0, "block_size"});
  require_finite_nonnegative("shampoo", "graft_eps", graft_eps);
}

Shape shampoo_view(const Shape& shape) {
  if (shape.size() <= 1) return {shape_numel(shape)};
  return {shape_numel(shape) / shape.back(), shape.back()};
}

namespace {

// Σ over the blocks of one dimension of (block length)²: the floats of that side's statistics.
std::int64_t squares(std::int64_t dim, std::int64_t block) {
  const std::int64_t full = dim / block, rest = dim % block;
  return full * block * block + rest * rest;
}

double norm2(const float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  double s = 0.0;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) s += static_cast<double>(x[i * ld + j]) * x[i * ld + j];
  return s;
}

}  // namespace

void shampoo_step(std::span<float> param, std::span<const float> grad, const Shape& view, const ShampooState& st,
                  const ShampooOptions& o, std::int64_t step) {
  detail::check_same_size("shampoo_step", "grad", grad.size(), param.size());
  detail::check_step("shampoo_step", step);
  const bool matrix = view.size() == 2;
  const std::int64_t rows = matrix ? view[0] : 1, cols = matrix ? view[1] : view.at(0);
  if (rows * cols != static_cast<std::int64_t>(param.size()))
    throw UsageError("shampoo_step: view " + shape_to_string(view) + " does not match the parameter's size");
  const std::int64_t B = o.block_size;
  // A vector's blocks are its L blocks (one-sided); a matrix's tiles have an L per row block and
  // an R per column block, i.e. per tile (its own statistics).
  const std::int64_t rb = matrix ? detail::block_count(rows, B) : 1, cb = detail::block_count(cols, B);
  const std::int64_t left_size = matrix ? cb * squares(rows, B) : squares(cols, B);
  const std::int64_t right_size = matrix ? rb * squares(cols, B) : 0;
  detail::check_same_size("shampoo_step", "L", st.left.size(), static_cast<std::size_t>(left_size));
  detail::check_same_size("shampoo_step", "L_lo", st.left_lo.size(), static_cast<std::size_t>(left_size));
  detail::check_same_size("shampoo_step", "R_lo", st.right_lo.size(), static_cast<std::size_t>(right_size));
  detail::check_same_size("shampoo_step", "L_root", st.left_root.size(), static_cast<std::size_t>(left_size));
  detail::check_same_size("shampoo_step", "R", st.right.size(), static_cast<std::size_t>(right_size));
  detail::check_same_size("shampoo_step", "R_root", st.right_root.size(), static_cast<std::size_t>(right_size));
  if (o.graft) detail::check_same_size("shampoo_step", "graft_sum", st.graft_sum.size(), param.size());
  const bool refresh = (step - 1) % o.precondition_every == 0;
  const double eps = o.eps;
  const auto lr = static_cast<float>(o.lr), geps = static_cast<float>(o.graft_eps);

  const double side = static_cast<double>(std::min(std::max(rows, cols), B));
  const double work = static_cast<double>(rows * cols) * side * (refresh ? 14.0 : 4.0);
  detail::for_each_block(rb * cb, work, [&](std::int64_t tile) {
    const std::int64_t bi = tile / cb, bj = tile % cb;
    const std::int64_t mb = matrix ? detail::block_len(rows, B, bi) : 1, nb = detail::block_len(cols, B, bj);
    const std::int64_t off = bi * B * cols + bj * B;  // the tile's first element; leading dimension cols
    const float* G = grad.data() + off;
    float* W = param.data() + off;
    std::vector<float> D(static_cast<std::size_t>(mb * nb));
    const auto mm = static_cast<std::size_t>(mb * mb), nn = static_cast<std::size_t>(nb * nb);
    if (matrix) {
      // Tile (bi, bj) statistics: tiles in row-major order, all full but the last row / column.
      const std::int64_t l_off = bi * cb * B * B + bj * mb * mb, r_off = bi * squares(cols, B) + bj * B * B;
      float* L = st.left.data() + l_off;
      float* Llo = st.left_lo.data() + l_off;
      float* Lr = st.left_root.data() + l_off;
      float* R = st.right.data() + r_off;
      float* Rlo = st.right_lo.data() + r_off;
      float* Rr = st.right_root.data() + r_off;
      // L += G Gᵀ, R += Gᵀ G: the products in double, accumulated as float pairs.
      std::vector<double> Gd(static_cast<std::size_t>(mb * nb)), GG(std::max(mm, nn));
      for (std::int64_t i = 0; i < mb; ++i)
        for (std::int64_t j = 0; j < nb; ++j) Gd[static_cast<std::size_t>(i * nb + j)] = G[i * cols + j];
      detail::dgemm(false, true, mb, mb, nb, Gd.data(), nb, Gd.data(), nb, GG.data(), mb);
      for (std::size_t i = 0; i < mm; ++i) detail::pair_add(L[i], Llo[i], GG[i]);
      detail::dgemm(true, false, nb, nb, mb, Gd.data(), nb, Gd.data(), nb, GG.data(), nb);
      for (std::size_t i = 0; i < nn; ++i) detail::pair_add(R[i], Rlo[i], GG[i]);
      if (refresh) {
        detail::inverse_root({L, mm}, {Llo, mm}, mb, eps, 4.0, {Lr, mm});
        detail::inverse_root({R, nn}, {Rlo, nn}, nb, eps, 4.0, {Rr, nn});
      }
      std::vector<float> T(static_cast<std::size_t>(mb * nb));
      detail::gemm(false, false, mb, nb, mb, 1.0f, Lr, mb, G, cols, 0.0f, T.data(), nb);        // T = L⁻ G
      detail::gemm(false, false, mb, nb, nb, 1.0f, T.data(), nb, Rr, nb, 0.0f, D.data(), nb);   // D = T R⁻
    } else {
      float* L = st.left.data() + bj * B * B;
      float* Llo = st.left_lo.data() + bj * B * B;
      float* Lr = st.left_root.data() + bj * B * B;
      for (std::int64_t i = 0; i < nb; ++i) {  // L += g gᵀ (float pair; the products are exact in double)
        const double gi = G[i];
        for (std::int64_t j = 0; j < nb; ++j) detail::pair_add(L[i * nb + j], Llo[i * nb + j], gi * G[j]);
      }
      if (refresh) detail::inverse_root({L, nn}, {Llo, nn}, nb, eps, 2.0, {Lr, nn});
      detail::gemm(false, false, nb, 1, nb, 1.0f, Lr, nb, G, 1, 0.0f, D.data(), 1);  // D = L⁻ g
    }
    if (o.graft) {
      float* S = st.graft_sum.data() + off;
      double graft = 0.0;
      for (std::int64_t i = 0; i < mb; ++i)
        for (std::int64_t j = 0; j < nb; ++j) {
          const float g = G[i * cols + j];
          float& s = S[i * cols + j];
          s += g * g;
          const double a = g / (std::sqrt(s) + geps);
          graft += a * a;
        }
      const double shampoo = norm2(D.data(), mb, nb, nb);
      if (shampoo > 0.0) {
        const auto scale = static_cast<float>(std::sqrt(graft / shampoo));
        for (auto& d : D) d *= scale;
      }
    }
    for (std::int64_t i = 0; i < mb; ++i) {
      float* w = W + i * cols;
      const float* d = D.data() + i * nb;
#pragma omp simd
      for (std::int64_t j = 0; j < nb; ++j) w[j] -= lr * d[j];
    }
  });
}

std::span<const Field<ShampooOptions>> ShampooRule::fields() {
  using O = ShampooOptions;
  static const std::array<Field<O>, 6> table{{
      {"lr", &O::lr, "learning rate"},
      {"eps", &O::eps, "added to the denominator"},
      {"precondition_every", &O::precondition_every, "adagrad-full, shampoo: recompute the preconditioner every k steps"},
      {"block_size", &O::block_size, "adagrad-full, shampoo: largest preconditioned block (dimensions above are split)"},
      {"graft", &O::graft, "shampoo: take each block's step norm from diagonal AdaGrad (grafting)"},
      {"graft_eps", &O::graft_eps, "shampoo: eps of the grafted AdaGrad, sqrt(s)+eps"},
  }};
  return table;
}

std::vector<BufferSpec> ShampooRule::state_spec(const Options& o, const Shape& shape) {
  const Shape view = shampoo_view(shape);
  const std::int64_t B = o.block_size;
  std::vector<BufferSpec> out;
  if (view.size() == 2) {
    const std::int64_t left = detail::block_count(view[1], B) * squares(view[0], B);
    const std::int64_t right = detail::block_count(view[0], B) * squares(view[1], B);
    out = {{"L", {left}, 0.0f}, {"L_lo", {left}, 0.0f}, {"L_root", {left}, 0.0f},
           {"R", {right}, 0.0f}, {"R_lo", {right}, 0.0f}, {"R_root", {right}, 0.0f}};
  } else {
    const std::int64_t left = squares(view[0], B);
    out = {{"L", {left}, 0.0f}, {"L_lo", {left}, 0.0f}, {"L_root", {left}, 0.0f}};
  }
  if (o.graft) out.push_back({"graft_sum", shape, 0.0f});
  return out;
}

void ShampooRule::step(const Options& o, const TensorStep& s) {
  const Shape view = shampoo_view(s.shape);
  const bool matrix = view.size() == 2;
  ShampooState st;
  st.left = s.state[0];
  st.left_lo = s.state[1];
  st.left_root = s.state[2];
  if (matrix) {
    st.right = s.state[3];
    st.right_lo = s.state[4];
    st.right_root = s.state[5];
  }
  if (o.graft) st.graft_sum = s.state[matrix ? 6 : 3];
  shampoo_step(s.param, s.grad, view, st, o, s.step);
}

}  // namespace adakit::optim
