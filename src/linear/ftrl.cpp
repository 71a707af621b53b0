#include "adakit/linear/ftrl.hpp"

#include <algorithm>
#include <array>

namespace adakit::linear {
namespace {
std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }
}  // namespace

void FtrlOptions::validate() const {
  optim::require_finite_positive("ftrl", "alpha", alpha);
  optim::require_finite_nonnegative("ftrl", "beta", beta);
  optim::require_finite_nonnegative("ftrl", "l1", l1);
  optim::require_finite_nonnegative("ftrl", "l2", l2);
}

Ftrl::Ftrl(const FtrlOptions& options) : options_(options) { options_.validate(); }

std::span<const optim::Field<FtrlOptions>> Ftrl::fields() {
  using O = FtrlOptions;
  static const std::array<optim::Field<O>, 4> table{{
      {"alpha", &O::alpha, "per-coordinate rate alpha / (beta + sqrt(n))"},
      {"beta", &O::beta, "smooths the rate while n is small"},
      {"l1", &O::l1, "L1 strength: w = 0 while |z| <= l1 (exact zeros)"},
      {"l2", &O::l2, "L2 strength"},
  }};
  return table;
}

optim::OptionMap Ftrl::option_map() const { return optim::options_to_map(options_, fields()); }

void Ftrl::on_reset(LinearModel& model) {
  bias_z_.assign(model.bias().size(), 0.0f);
  bias_n_.assign(model.bias().size(), 0.0f);
  std::fill(model.weights().begin(), model.weights().end(), 0.0f);
  std::fill(model.bias().begin(), model.bias().end(), 0.0f);
}

void Ftrl::on_step(LinearModel& model, const SparseGradient& grad, std::int64_t) const {
  const auto& o = options_;
  for (std::size_t i = 0; i < grad.features.size(); ++i) {
    const std::int64_t j = grad.features[i];
    check_feature(j);
    float* w = row(model, j);  // weights, then z, then n
    const float* g = grad.values.data() + static_cast<std::int64_t>(i) * outputs_;
    for (std::int64_t c = 0; c < outputs_; ++c) {
      float& z = w[outputs_ + c];
      float& n = w[2 * outputs_ + c];
      ftrl_update(z, n, w[c], g[c], o.alpha);
      w[c] = static_cast<float>(ftrl_weight(z, n, o.alpha, o.beta, o.l1, o.l2));
    }
  }
}

void Ftrl::on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t) {
  const auto& o = options_;
  for (std::int64_t c = 0; c < outputs_; ++c) {
    float& b = model.bias()[sz(c)];
    ftrl_update(bias_z_[sz(c)], bias_n_[sz(c)], b, grad[sz(c)], o.alpha);
    b = static_cast<float>(ftrl_weight(bias_z_[sz(c)], bias_n_[sz(c)], o.alpha, o.beta, 0.0, 0.0));
  }
}

}  // namespace adakit::linear
