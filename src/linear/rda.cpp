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

void AdagradRda::refresh(LinearModel& model, std::int64_t feature, std::int64_t t) const {
  const auto& o = options_;
  float* w = row(model, feature);  // weights, then u, then s
  const float* u = w + outputs_;
  const float* s = w + 2 * outputs_;
  for (std::int64_t c = 0; c < outputs_; ++c) w[c] = static_cast<float>(rda_weight(u[c], s[c], t, o.lr, o.eps, o.l1, o.l2));
}

void AdagradRda::refresh_bias(LinearModel& model, std::int64_t t) {
  if (!model.fit_bias()) return;
  for (std::int64_t c = 0; c < outputs_; ++c)
    model.bias()[sz(c)] =
        static_cast<float>(rda_weight(bias_u_[sz(c)], bias_s_[sz(c)], t, options_.lr, options_.eps, 0.0, 0.0));
}

std::int64_t AdagradRda::prepare_touches(const LinearModel& model, std::int64_t features) const {
  return features * outputs_ + (model.fit_bias() ? outputs_ : 0);  // the bias is refreshed too
}

void AdagradRda::on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const {
  for (const std::int64_t j : features) {
    check_feature(j);
    refresh(model, j, t);
  }
}

void AdagradRda::on_prepare_bias(LinearModel& model, std::int64_t t) { refresh_bias(model, t); }

void AdagradRda::on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const {
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
    refresh(model, j, t);
  }
}

void AdagradRda::on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) {
  for (std::int64_t c = 0; c < outputs_; ++c) {
    bias_u_[sz(c)] += grad[sz(c)];
    bias_s_[sz(c)] += grad[sz(c)] * grad[sz(c)];
  }
  refresh_bias(model, t);
}

void AdagradRda::on_sync(LinearModel& model) {
  for (std::int64_t j = 0; j < dim_; ++j) refresh(model, j, steps_);
  refresh_bias(model, steps_);
}

}  // namespace adakit::linear
