// ftrl — FTRL-Proximal, McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013,
// Algorithm 1 (per-coordinate learning rates), generalised from one example to a minibatch's mean
// gradient. State per coordinate: z and n (n = Σ g²). With α (alpha), β (beta), λ1 (l1), λ2 (l2):
//   w   = 0                                              if |z| <= λ1      (ftrl_weight)
//       = −(z − sign(z) λ1) / ((β + √n)/α + λ2)          otherwise
//   σ   = (√(n + g²) − √n) / α                                             (ftrl_update)
//   z  += g − σ w;   n += g²                  (w: the weight used for the prediction)
// Lazy by construction: w depends only on (z, n), which change only with a gradient, so the model
// keeps w current for every coordinate after each step and prepare() has nothing to do. The bias is
// an unregularised FTRL coordinate (λ1 = λ2 = 0).
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::linear {

inline double ftrl_weight(double z, double n, double alpha, double beta, double l1, double l2) {
  if (std::abs(z) <= l1) return 0.0;
  return -(z - std::copysign(l1, z)) / ((beta + std::sqrt(n)) / alpha + l2);
}

inline void ftrl_update(float& z, float& n, float w, float g, double alpha) {
  const double n_new = static_cast<double>(n) + static_cast<double>(g) * static_cast<double>(g);
  const double sigma = (std::sqrt(n_new) - std::sqrt(static_cast<double>(n))) / alpha;
  z = static_cast<float>(static_cast<double>(z) + g - sigma * w);
  n = static_cast<float>(n_new);
}

struct FtrlOptions {
  double alpha = 0.1, beta = 1.0, l1 = 0.0, l2 = 0.0;
  void validate() const;  // UsageError naming the field; alpha must be > 0
};

class Ftrl final : public LinearOptimizer {
 public:
  static constexpr std::string_view kName = "ftrl";
  explicit Ftrl(const FtrlOptions& options = {});
  static std::span<const optim::Field<FtrlOptions>> fields();

  std::string_view name() const override { return kName; }
  optim::OptionMap option_map() const override;
  const FtrlOptions& options() const noexcept { return options_; }
  // z and n, dim x outputs each (copies, from the model's rows: weights, z, n). UsageError unless
  // `model` holds this state.
  std::vector<float> z(const LinearModel& model) const { return gather_state(model, outputs_, outputs_); }
  std::vector<float> n(const LinearModel& model) const { return gather_state(model, 2 * outputs_, outputs_); }
  std::int64_t state_width(std::int64_t outputs) const override { return 2 * outputs; }

 protected:
  std::vector<RowField> row_fields(std::int64_t outputs) const override { return {{"z", outputs, outputs}, {"n", 2 * outputs, outputs}}; }
  std::vector<std::pair<std::string, std::vector<float>*>> bias_fields() override { return {{"z", &bias_z_}, {"n", &bias_n_}}; }
  void on_reset(LinearModel& model) override;
  void on_prepare(LinearModel&, std::span<const std::int64_t>, std::int64_t) const override {}
  void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const override;
  void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) override;
  void on_sync(LinearModel&) override {}

 private:
  FtrlOptions options_;
  std::vector<float> bias_z_, bias_n_;
};

}  // namespace adakit::linear
