#include "adakit/linear/rda.hpp"

#include <algorithm>
#include <array>

namespace adakit::linear {
namespace {
std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }
}  // namespace

void AdagradRdaOptions::validate() const {
  optim::require_finite_positive("adagrad-rda", "lr", lr);
  optim::require_finite_nonnegative("adagrad-rda", "l1", l1);
  optim::require_finite_nonnegative("adagrad-rda", "l2", l2);
  optim::require_finite_positive("adagrad-rda", "eps", eps);
}

AdagradRda::AdagradRda(const AdagradRdaOptions& options) : options_(options) { options_.validate(); }

std::span<const optim::Field<AdagradRdaOptions>> AdagradRda::fields() {
  using O = AdagradRdaOptions;
  static const std::array<optim::Field<O>, 4> table{{
      {"lr", &O::lr, "step size eta: theta = -sign(u) eta t / (H + eta l2 t) max(0, |u|/t - l1)"},
      {"l1", &O::l1, "L1 strength: a coordinate is 0 while |mean gradient| <= l1"},
      {"l2", &O::l2, "L2 strength (penalty l2/2 theta^2)"},
      {"eps", &O::eps, "delta in H = eps + sqrt(s); > 0"},
  }};
  return table;
}

optim::OptionMap AdagradRda::option_map() const { return optim::options_to_map(options_, fields()); }

void AdagradRda::on_reset(LinearModel& model) {
  bias_u_.assign(model.bias().size(), 0.0f);
  bias_s_.assign(model.bias().size(), 0.0f);
  std::fill(model.weights().begin(), model.weights().end(), 0.0f);
  std::fill(model.bias().begin(), model.bias().end(), 0.0f);
}

void AdagradRda::refresh(LinearModel& model, std::int64_t feature) {
  const auto& o = options_;
  float* w = row(model, feature);  // weights, then u, then s
  const float* u = w + outputs_;
  const float* s = w + 2 * outputs_;
  for (std::int64_t c = 0; c < outputs_; ++c)
    w[c] = static_cast<float>(rda_weight(u[c], s[c], steps_, o.lr, o.eps, o.l1, o.l2));
}

void AdagradRda::refresh_bias(LinearModel& model) {
  if (!model.fit_bias()) return;
  for (std::int64_t c = 0; c < outputs_; ++c)
    model.bias()[sz(c)] =
        static_cast<float>(rda_weight(bias_u_[sz(c)], bias_s_[sz(c)], steps_, options_.lr, options_.eps, 0.0, 0.0));
  touched_ += outputs_;
}

void AdagradRda::on_prepare(LinearModel& model, std::span<const std::int64_t> features) {
  for (const std::int64_t j : features) {
    check_feature(j);
    refresh(model, j);
  }
  touched_ += static_cast<std::int64_t>(features.size()) * outputs_;
  refresh_bias(model);
}

void AdagradRda::on_step(LinearModel& model, const SparseGradient& grad) {
  for (std::size_t i = 0; i < grad.features.size(); ++i) {
    const std::int64_t j = grad.features[i];
    check_feature(j);
    float* u = row(model, j) + outputs_;
    float* s = u + outputs_;
    const float* g = grad.values.data() + static_cast<std::int64_t>(i) * outputs_;
    for (std::int64_t c = 0; c < outputs_; ++c) {
      u[c] += g[c];
      s[c] += g[c] * g[c];
    }
    refresh(model, j);
  }
  touched_ += static_cast<std::int64_t>(grad.values.size());
  if (model.fit_bias()) {
    for (std::int64_t c = 0; c < outputs_; ++c) {
      bias_u_[sz(c)] += grad.bias[sz(c)];
      bias_s_[sz(c)] += grad.bias[sz(c)] * grad.bias[sz(c)];
    }
    refresh_bias(model);
  }
}

void AdagradRda::on_sync(LinearModel& model) {
  for (std::int64_t j = 0; j < dim_; ++j) refresh(model, j);
  if (model.fit_bias())
    for (std::int64_t c = 0; c < outputs_; ++c)
      model.bias()[sz(c)] =
          static_cast<float>(rda_weight(bias_u_[sz(c)], bias_s_[sz(c)], steps_, options_.lr, options_.eps, 0.0, 0.0));
}

}  // namespace adakit::linear
