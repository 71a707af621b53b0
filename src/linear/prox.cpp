#include "adakit/linear/prox.hpp"

#include <array>
#include <cmath>

#include "adakit/core/error.hpp"

namespace adakit::linear {
namespace {
std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }
}  // namespace

// ---- adagrad-l1 ----

void AdagradL1Options::validate() const {
  optim::require_finite_positive("adagrad-l1", "lr", lr);
  optim::require_finite_nonnegative("adagrad-l1", "l1", l1);
  optim::require_finite_nonnegative("adagrad-l1", "l2", l2);
  optim::require_finite_positive("adagrad-l1", "eps", eps);
  optim::require_finite_nonnegative("adagrad-l1", "initial_accumulator_value", initial_accumulator_value);
}

AdagradL1::AdagradL1(const AdagradL1Options& options) : options_(options) { options_.validate(); }

std::span<const optim::Field<AdagradL1Options>> AdagradL1::fields() {
  using O = AdagradL1Options;
  static const std::array<optim::Field<O>, 5> table{{
      {"lr", &O::lr, "step size eta: theta = prox(theta - eta/H g), H = eps + sqrt(sum g^2)"},
      {"l1", &O::l1, "L1 strength lambda1 (exact zeros)"},
      {"l2", &O::l2, "L2 strength lambda2 (penalty lambda2/2 theta^2)"},
      {"eps", &O::eps, "delta in H = eps + sqrt(s); > 0"},
      {"initial_accumulator_value", &O::initial_accumulator_value, "starting value of the sum of squares"},
  }};
  return table;
}

optim::OptionMap AdagradL1::option_map() const { return optim::options_to_map(options_, fields()); }

void AdagradL1::on_fresh_features(LinearModel& model, std::span<const std::int64_t> features) {
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  if (s0 != 0.0f)
    for (const std::int64_t j : features) std::fill_n(row(model, j) + outputs_, outputs_, s0);
}

void AdagradL1::on_reset(LinearModel& model) {
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  if (s0 != 0.0f)
    for (std::int64_t j = 0; j < dim_; ++j) std::fill_n(row(model, j) + outputs_, outputs_, s0);
  bias_sum_.assign(model.bias().size(), s0);  // the last steps: 0, as reserve_state left them
}

std::int64_t AdagradL1::last_step(const LinearModel& model, std::int64_t feature) const {
  check_model(model);
  check_feature(feature);
  return load_step(model.table().data() + feature * model.row_stride() + 2 * outputs_);
}

void AdagradL1::catch_up(LinearModel& model, std::int64_t feature, std::int64_t to_step) const {
  float* w = row(model, feature);  // weights, then s, then the last step
  float* last_slot = w + 2 * outputs_;
  const std::int64_t k = to_step - load_step(last_slot);
  store_step(last_slot, to_step);
  if (k <= 0 || (options_.l1 == 0.0 && options_.l2 == 0.0)) return;
  const float* s = w + outputs_;
  for (std::int64_t c = 0; c < outputs_; ++c) {
    if (w[c] == 0.0f) continue;
    const double eta_over_h = options_.lr / optim::adagrad_denominator<false>(static_cast<double>(s[c]), options_.eps);
    w[c] = static_cast<float>(prox_l1_l2_repeat(w[c], k, eta_over_h, options_.l1, options_.l2));
  }
}

void AdagradL1::on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const {
  for (const std::int64_t j : features) {
    check_feature(j);
    catch_up(model, j, t);
  }
}

void AdagradL1::on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const {
  const auto& o = options_;
  for (std::size_t i = 0; i < grad.features.size(); ++i) {
    const std::int64_t j = grad.features[i];
    check_feature(j);
    catch_up(model, j, t - 1);  // nothing to do when prepare() ran
    float* w = row(model, j);
    float* s = w + outputs_;
    const float* g = grad.values.data() + static_cast<std::int64_t>(i) * outputs_;
    for (std::int64_t c = 0; c < outputs_; ++c) adagrad_l1_coordinate(w[c], s[c], g[c], o.lr, o.eps, o.l1, o.l2);
    store_step(w + 2 * outputs_, t);
  }
}

void AdagradL1::on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t) {
  const auto& o = options_;
  for (std::int64_t c = 0; c < outputs_; ++c)
    adagrad_l1_coordinate(model.bias()[sz(c)], bias_sum_[sz(c)], grad[sz(c)], o.lr, o.eps, 0.0, 0.0);
}

void AdagradL1::on_sync(LinearModel& model) {
  for (std::int64_t j = 0; j < dim_; ++j) catch_up(model, j, steps_);
}

// ---- sgd ----

void LazySgdOptions::validate() const {
  optim::require_finite_positive("sgd (linear)", "lr", lr);
  optim::require_finite_nonnegative("sgd (linear)", "l1", l1);
  optim::require_finite_nonnegative("sgd (linear)", "l2", l2);
}

LazySgd::LazySgd(const LazySgdOptions& options) : options_(options) { options_.validate(); }

std::span<const optim::Field<LazySgdOptions>> LazySgd::fields() {
  using O = LazySgdOptions;
  static const std::array<optim::Field<O>, 3> table{{
      {"lr", &O::lr, "step size eta: theta = prox(theta - eta g)"},
      {"l1", &O::l1, "L1 strength (exact zeros)"},
      {"l2", &O::l2, "L2 strength, applied as the implicit shrink theta / (1 + eta l2)"},
  }};
  return table;
}

optim::OptionMap LazySgd::option_map() const { return optim::options_to_map(options_, fields()); }

void LazySgd::on_reset(LinearModel&) {}  // the last steps: 0, as reserve_state left them

std::int64_t LazySgd::last_step(const LinearModel& model, std::int64_t feature) const {
  check_model(model);
  check_feature(feature);
  return load_step(model.table().data() + feature * model.row_stride() + outputs_);
}

void LazySgd::catch_up(LinearModel& model, std::int64_t feature, std::int64_t to_step) const {
  float* w = row(model, feature);  // weights, then the last step
  float* last_slot = w + outputs_;
  const std::int64_t k = to_step - load_step(last_slot);
  store_step(last_slot, to_step);
  if (k <= 0 || (options_.l1 == 0.0 && options_.l2 == 0.0)) return;
  for (std::int64_t c = 0; c < outputs_; ++c)
    if (w[c] != 0.0f)
      w[c] = static_cast<float>(prox_l1_l2_repeat(w[c], k, options_.lr, options_.l1, options_.l2));
}

void LazySgd::on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const {
  for (const std::int64_t j : features) {
    check_feature(j);
    catch_up(model, j, t);
  }
}

void LazySgd::on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const {
  const auto& o = options_;
  for (std::size_t i = 0; i < grad.features.size(); ++i) {
    const std::int64_t j = grad.features[i];
    check_feature(j);
    catch_up(model, j, t - 1);
    float* w = row(model, j);
    const float* g = grad.values.data() + static_cast<std::int64_t>(i) * outputs_;
    for (std::int64_t c = 0; c < outputs_; ++c) sgd_prox_coordinate(w[c], g[c], o.lr, o.l1, o.l2);
    store_step(w + outputs_, t);
  }
}

void LazySgd::on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t) {
  for (std::int64_t c = 0; c < outputs_; ++c) sgd_prox_coordinate(model.bias()[sz(c)], grad[sz(c)], options_.lr, 0.0, 0.0);
}

void LazySgd::on_sync(LinearModel& model) {
  for (std::int64_t j = 0; j < dim_; ++j) catch_up(model, j, steps_);
}

}  // namespace adakit::linear
