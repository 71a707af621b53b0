// Proximal (composite) updates with L1 and L2, applied lazily: adagrad-l1 and sgd.
//
// adagrad-l1 — AdaGrad composite mirror descent, Duchi, Hazan & Singer, "Adaptive Subgradient
// Methods for Online Learning and Stochastic Optimization", JMLR 12 (2011), eq. (4) with the
// diagonal proximal function ψ_t(θ) = ½⟨θ, H_t θ⟩, H_t = δI + diag(s_t)^½ (Section 5.1 for ℓ1):
//   θ_{t+1} = argmin_θ  η⟨g_t, θ⟩ + η r(θ) + ½ (θ − θ_t)ᵀ H_t (θ − θ_t),   r(θ) = λ1|θ| + λ2/2 θ².
// Per coordinate (adagrad_l1_coordinate):
//   s ← s + g²;  H = eps + √s;  u = θ − (η/H) g;  θ ← prox(u, η/H)
// with the proximal step of η r under the H-norm (prox_l1_l2):
//   prox(u, η/H) = argmin_θ  H/2 (θ − u)² + η λ1 |θ| + η λ2/2 θ²
//                = sign(u) · max(0, |u| − λ1 η/H) / (1 + λ2 η/H)
// (zero of the subgradient H(θ − u) + η λ2 θ + η λ1 sign θ; θ = 0 when |u| ≤ λ1 η/H).
// With λ1 = λ2 = 0 this is AdaGrad with PyTorch's eps placement (no lr_decay), computed in double:
// s and H are optim/adagrad.hpp's formula (adagrad_scale with x = η gives η/H).
//
// sgd — proximal SGD (FOBOS: Duchi & Singer, "Efficient Online and Batch Learning using Forward
// Backward Splitting", JMLR 10, 2009): the same step with H ≡ 1 (sgd_prox_coordinate):
//   θ ← prox(θ − η g, η)    i.e. L2 is the implicit shrink θ/(1 + η λ2), not (1 − η λ2) θ.
//
// Lazy catch-up: a coordinate not in the batch has g = 0, so its eager step is a pure prox step
// θ ← prox(θ, η/H) with an H that does not change (s only grows with a gradient). A per-feature
// counter `last` records the step its weights are up to date with; before a feature is read
// (prepare) or stepped, its k = t − last missed pure prox steps are applied IN CLOSED FORM, O(1) for
// any k (prox_l1_l2_repeat), with a = λ1 η/H, b = λ2 η/H, q = 1/(1 + b):
//   |θ_k| = max(0, |θ_0| q^k − a (1 − q^k) / b)      (b > 0)
//   |θ_k| = max(0, |θ_0| − k a)                       (b = 0)
// and the sign unchanged. Exact, not an approximation: the unclipped recursion m ← (m − a) q stays
// negative once negative, so clipping once at the end equals clipping at every step. The bias is
// never regularised (plain AdaGrad / SGD steps).
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::linear {

// ---- kernels (one coordinate; double inside) ----

inline double prox_l1_l2(double u, double eta_over_h, double l1, double l2) {
  const double m = std::abs(u) - l1 * eta_over_h;
  if (!(m > 0.0)) return 0.0;
  return std::copysign(m / (1.0 + l2 * eta_over_h), u);
}

// k >= 0 pure proximal steps (no gradient) in closed form; see the top of this file.
inline double prox_l1_l2_repeat(double theta, std::int64_t k, double eta_over_h, double l1, double l2) {
  if (k <= 0 || theta == 0.0) return theta;
  const double a = l1 * eta_over_h, b = l2 * eta_over_h, kd = static_cast<double>(k);
  double m;
  if (b == 0.0) {
    m = std::abs(theta) - kd * a;
  } else {
    const double log_q = -std::log1p(b);             // q = 1 / (1 + b)
    const double qk = std::exp(kd * log_q);          // q^k
    const double one_minus_qk = -std::expm1(kd * log_q);
    m = std::abs(theta) * qk - a * one_minus_qk / b;
  }
  return m > 0.0 ? std::copysign(m, theta) : 0.0;
}

// adagrad-l1, one coordinate: s += g²; H = eps + √s; θ = prox(θ − (lr/H) g, lr/H).
inline void adagrad_l1_coordinate(float& theta, float& sum, float g, double lr, double eps, double l1, double l2) {
  double s = sum;
  const double eta_over_h = optim::adagrad_scale<false, false, false>(lr, static_cast<double>(g), s, eps);
  theta = static_cast<float>(prox_l1_l2(theta - eta_over_h * g, eta_over_h, l1, l2));
  sum = static_cast<float>(s);
}

// sgd, one coordinate: θ = prox(θ − lr g, lr).
inline void sgd_prox_coordinate(float& theta, float g, double lr, double l1, double l2) {
  theta = static_cast<float>(prox_l1_l2(static_cast<double>(theta) - lr * g, lr, l1, l2));
}

// ---- adagrad-l1 ----

struct AdagradL1Options {
  double lr = 1e-2, l1 = 0.0, l2 = 0.0, eps = 1e-10, initial_accumulator_value = 0.0;
  void validate() const;  // UsageError naming the field; lr and eps must be > 0 (H > 0)
};

class AdagradL1 final : public LinearOptimizer {
 public:
  static constexpr std::string_view kName = "adagrad-l1";
  explicit AdagradL1(const AdagradL1Options& options = {});
  static std::span<const optim::Field<AdagradL1Options>> fields();

  std::string_view name() const override { return kName; }
  bool lazy() const override { return true; }
  optim::OptionMap option_map() const override;
  const AdagradL1Options& options() const noexcept { return options_; }
  // From the model's rows (weights, s, the last step as two slots). UsageError unless `model` holds this state.
  std::vector<float> sum(const LinearModel& model) const { return gather_state(model, outputs_, outputs_); }  // dim x outputs
  std::int64_t last_step(const LinearModel& model, std::int64_t feature) const;
  std::int64_t state_width(std::int64_t outputs) const override { return outputs + kStepSlots; }

 protected:
  std::vector<RowField> row_fields(std::int64_t outputs) const override { return {{"sum", outputs, outputs}, {"last_step", 2 * outputs, kStepSlots, true}}; }
  std::vector<std::pair<std::string, std::vector<float>*>> bias_fields() override { return {{"sum", &bias_sum_}}; }
  void on_reset(LinearModel& model) override;
  void on_fresh_features(LinearModel& model, std::span<const std::int64_t> features) override;
  void on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const override;
  void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const override;
  void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) override;
  void on_sync(LinearModel& model) override;

 private:
  void catch_up(LinearModel& model, std::int64_t feature, std::int64_t to_step) const;
  AdagradL1Options options_;
  std::vector<float> bias_sum_;
};

// ---- sgd ----

struct LazySgdOptions {
  double lr = 1e-2, l1 = 0.0, l2 = 0.0;
  void validate() const;  // UsageError naming the field; lr must be > 0
};

class LazySgd final : public LinearOptimizer {
 public:
  static constexpr std::string_view kName = "sgd";
  explicit LazySgd(const LazySgdOptions& options = {});
  static std::span<const optim::Field<LazySgdOptions>> fields();

  std::string_view name() const override { return kName; }
  bool lazy() const override { return true; }
  optim::OptionMap option_map() const override;
  const LazySgdOptions& options() const noexcept { return options_; }
  // From the model's rows (weights, the last step as two slots). UsageError unless `model` holds this state.
  std::int64_t last_step(const LinearModel& model, std::int64_t feature) const;
  std::int64_t state_width(std::int64_t) const override { return kStepSlots; }

 protected:
  std::vector<RowField> row_fields(std::int64_t outputs) const override { return {{"last_step", outputs, kStepSlots, true}}; }
  void on_reset(LinearModel& model) override;
  void on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const override;
  void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const override;
  void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) override;
  void on_sync(LinearModel& model) override;

 private:
  void catch_up(LinearModel& model, std::int64_t feature, std::int64_t to_step) const;
  LazySgdOptions options_;
};

}  // namespace adakit::linear
