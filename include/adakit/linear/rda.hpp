// adagrad-rda — AdaGrad regularised dual averaging (primal-dual subgradient), Duchi, Hazan & Singer,
// "Adaptive Subgradient Methods for Online Learning and Stochastic Optimization", JMLR 12 (2011),
// eq. (3) with ψ_t(θ) = ½⟨θ, H_t θ⟩, H_t = δI + diag(s_t)^½, and its ℓ1 closed form (Section 5.1).
//
// State per coordinate: u = Σ_τ g_τ (sum of gradients) and s = Σ_τ g_τ². After t steps (t counts
// every step, whether or not the coordinate had a gradient — its gradient is 0 then):
//   θ_{t+1} = argmin_θ  η (u/t) θ + η λ1 |θ| + η λ2/2 θ² + H/(2t) θ²,   H = eps + √s
//           = −sign(u) · η t / (H + η λ2 t) · max(0, |u|/t − λ1)          (rda_weight)
// λ2 = 0 is the paper's form −sign(ū)(η t/H)[|ū| − λ1]_+ with ū = u/t; λ2 adds η λ2/2 θ² to the
// regulariser. θ = 0 before the first step. The bias is not regularised (λ1 = λ2 = 0).
//
// Lazy by construction: θ depends only on (u, s, t), and u, s change only with a gradient; prepare()
// recomputes the batch's weights for the current t (a weight with |u|/t > λ1 still moves with t).
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

inline double rda_weight(double u, double s, std::int64_t t, double lr, double eps, double l1, double l2) {
  if (t <= 0) return 0.0;
  const double td = static_cast<double>(t);
  const double m = std::abs(u) / td - l1;
  if (!(m > 0.0)) return 0.0;
  return -std::copysign(lr * td * m / (optim::adagrad_denominator<false>(s, eps) + lr * l2 * td), u);
}

struct AdagradRdaOptions {
  double lr = 1e-2, l1 = 0.0, l2 = 0.0, eps = 1e-10;
  void validate() const;  // UsageError naming the field; lr and eps must be > 0
};

class AdagradRda final : public LinearOptimizer {
 public:
  static constexpr std::string_view kName = "adagrad-rda";
  explicit AdagradRda(const AdagradRdaOptions& options = {});
  static std::span<const optim::Field<AdagradRdaOptions>> fields();

  std::string_view name() const override { return kName; }
  bool lazy() const override { return true; }
  optim::OptionMap option_map() const override;
  const AdagradRdaOptions& options() const noexcept { return options_; }
  // u and s, dim x outputs each (copies, from the model's rows: weights, u, s). UsageError unless
  // `model` holds this state.
  std::vector<float> grad_sum(const LinearModel& model) const { return gather_state(model, outputs_, outputs_); }
  std::vector<float> sum(const LinearModel& model) const { return gather_state(model, 2 * outputs_, outputs_); }
  std::int64_t state_width(std::int64_t outputs) const override { return 2 * outputs; }

 protected:
  std::vector<RowField> row_fields(std::int64_t outputs) const override { return {{"u", outputs, outputs}, {"s", 2 * outputs, outputs}}; }
  std::vector<std::pair<std::string, std::vector<float>*>> bias_fields() override { return {{"u", &bias_u_}, {"s", &bias_s_}}; }
  void on_reset(LinearModel& model) override;
  void on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const override;
  void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const override;
  void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) override;
  void on_prepare_bias(LinearModel& model, std::int64_t t) override;
  std::int64_t prepare_touches(const LinearModel& model, std::int64_t features) const override;
  void on_sync(LinearModel& model) override;

 private:
  void refresh(LinearModel& model, std::int64_t feature, std::int64_t t) const;
  void refresh_bias(LinearModel& model, std::int64_t t);
  AdagradRdaOptions options_;
  std::vector<float> bias_u_, bias_s_;
};

}  // namespace adakit::linear
