#include "adakit/linear/optimizer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::linear {

namespace {
std::uint64_t next_owner() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1);
}

}  // namespace

void LinearOptimizer::reset(LinearModel& model) {
  model.reserve_state(state_width(model.outputs()), next_owner());
  dim_ = model.dim();
  outputs_ = model.outputs();
  steps_ = 0;
  touched_ = 0;
  owner_ = model.state_owner();
  on_reset(model);
}

void LinearOptimizer::bind(LinearModel& model) {
  if (!bound()) reset(model);
  else check_model(model);
}

void LinearOptimizer::check_model(const LinearModel& model) const {
  if (!bound())
    throw UsageError(std::string(name()) + ": no state yet; call reset(model) or bind(model) first");
  if (model.dim() != dim_ || model.outputs() != outputs_)
    throw UsageError(std::string(name()) + ": the state is for a [" + std::to_string(dim_) + " x " +
                     std::to_string(outputs_) + "] model, this one is [" + std::to_string(model.dim()) + " x " +
                     std::to_string(model.outputs()) + "]; call reset(model)");
  if (model.state_owner() != owner_)
    throw UsageError(std::string(name()) + ": this model does not hold this optimizer's state (another optimizer "
                     "was bound to it since, or the state was bound to another model); call reset(model)");
}

std::vector<float> LinearOptimizer::gather_state(const LinearModel& model, std::int64_t offset,
                                                 std::int64_t count) const {
  check_model(model);
  std::vector<float> out(static_cast<std::size_t>(dim_ * count));
  copy_state(model, offset, count, out.data());
  return out;
}

void LinearOptimizer::copy_state(const LinearModel& model, std::int64_t offset, std::int64_t count, float* out) const {
  const float* t = model.table().data();
  for (std::int64_t j = 0; j < dim_; ++j)  // bit copies (step counts live here too)
    std::memcpy(out + j * count, t + j * model.row_stride() + offset, static_cast<std::size_t>(count) * sizeof(float));
}

LinearOptimizerState LinearOptimizer::state(const LinearModel& model) const {
  check_model(model);
  LinearOptimizerState out;
  out.steps = steps_;
  out.touched = touched_;
  for (const RowField& f : row_fields(outputs_)) {
    Tensor t({dim_, f.count});
    copy_state(model, f.offset, f.count, t.data());
    out.tensors.emplace("weight." + f.name, std::move(t));
  }
  // bias_fields() hands out pointers to this optimizer's own vectors; only read here.
  for (const auto& [name, v] : const_cast<LinearOptimizer*>(this)->bias_fields())
    out.tensors.emplace("bias." + name, Tensor({static_cast<std::int64_t>(v->size())}, std::span<const float>(*v)));
  return out;
}

void LinearOptimizer::load_state(LinearModel& model, const LinearOptimizerState& state) {
  const std::string who(name());
  auto fail = [&](const std::string& entry, const std::string& what) -> void {
    throw UsageError(who + " state: '" + entry + "' " + what, {"", 0, entry});
  };
  // Check everything against the model's shape before anything changes.
  const std::int64_t outputs = model.outputs();
  std::map<std::string, Shape> expected;
  for (const RowField& f : row_fields(outputs)) expected.emplace("weight." + f.name, Shape{model.dim(), f.count});
  const auto bias = bias_fields();
  for (const auto& f : bias) expected.emplace("bias." + f.first, Shape{outputs});
  for (const auto& [key, shape] : expected) {
    const auto it = state.tensors.find(key);
    if (it == state.tensors.end()) fail(key, "is missing");
    else if (it->second.shape() != shape)
      fail(key, "has shape " + shape_to_string(it->second.shape()) + ", expected " + shape_to_string(shape));
  }
  for (const auto& [key, t] : state.tensors)
    if (!expected.contains(key)) fail(key, "is not part of this optimizer's state");
  if (state.steps < 0) fail("steps", "is negative: " + std::to_string(state.steps));
  for (const RowField& f : row_fields(outputs)) {
    if (!f.step) continue;
    const std::string key = "weight." + f.name;
    const float* v = state.tensors.at(key).data();
    for (std::int64_t j = 0; j < model.dim(); ++j) {
      const std::int64_t last = load_step(v + j * f.count);
      if (last < 0 || last > state.steps)
        fail(key, "holds step " + std::to_string(last) + " for feature " + std::to_string(j) + ", outside [0, " +
                      std::to_string(state.steps) + "] (the steps done)");
    }
  }
  if (state.touched < 0) fail("touched", "is negative: " + std::to_string(state.touched));

  // reset() lays the table out for this optimizer (weights kept) and may zero the weights (ftrl,
  // adagrad-rda): keep them and the bias across it.
  std::vector<float> weights(model.weights().begin(), model.weights().end());
  const std::vector<float> bias_values(model.bias().begin(), model.bias().end());
  reset(model);
  std::copy(weights.begin(), weights.end(), model.weights().begin());
  std::copy(bias_values.begin(), bias_values.end(), model.bias().begin());
  for (const RowField& f : row_fields(outputs_)) {
    const float* src = state.tensors.at("weight." + f.name).data();
    for (std::int64_t j = 0; j < dim_; ++j)
      std::memcpy(row(model, j) + f.offset, src + j * f.count, static_cast<std::size_t>(f.count) * sizeof(float));
  }
  for (const auto& [key, v] : bias_fields()) {
    const Tensor& t = state.tensors.at("bias." + key);
    v->assign(t.span().begin(), t.span().end());
  }
  steps_ = state.steps;
  touched_ = state.touched;
}

void LinearOptimizer::check_feature(std::int64_t feature) const {
  if (feature < 0 || feature >= dim_)
    throw UsageError(std::string(name()) + ": feature " + std::to_string(feature) + " is outside [0, " +
                     std::to_string(dim_) + ")");
}

void LinearOptimizer::prepare(LinearModel& model, std::span<const std::int64_t> features) {
  check_model(model);
  on_prepare(model, features, steps_);
  on_prepare_bias(model, steps_);
  touched_ += prepare_touches(model, static_cast<std::int64_t>(features.size()));
}

void LinearOptimizer::refresh(LinearModel& model, std::span<const std::int64_t> features) {
  const std::int64_t touched = touched_;
  prepare(model, features);
  touched_ = touched;
}

void LinearOptimizer::step(LinearModel& model, const SparseGradient& grad) {
  check_model(model);
  if (grad.outputs != outputs_ || grad.values.size() != grad.features.size() * static_cast<std::size_t>(outputs_) ||
      grad.bias.size() != static_cast<std::size_t>(outputs_))
    throw UsageError(std::string(name()) + ": gradient of " + std::to_string(grad.features.size()) + " rows x " +
                     std::to_string(grad.outputs) + " outputs (" + std::to_string(grad.values.size()) +
                     " values, bias of " + std::to_string(grad.bias.size()) + ") does not fit a model with " +
                     std::to_string(outputs_) + " outputs");
  ++steps_;
  on_step(model, grad, steps_);
  touched_ += static_cast<std::int64_t>(grad.values.size());
  if (model.fit_bias()) {
    on_step_bias(model, grad.bias, steps_);
    touched_ += outputs_;
  }
}

void LinearOptimizer::regrow(LinearModel& model, std::span<const std::int64_t> new_of_old) {
  if (!bound()) throw UsageError(std::string(name()) + ": no state yet; call reset(model) or bind(model) first");
  const auto old_dim = static_cast<std::size_t>(dim_);
  if (model.state_owner() != owner_ || model.outputs() != outputs_ || model.dim() < dim_ ||
      (!new_of_old.empty() && new_of_old.size() != old_dim))
    throw UsageError(std::string(name()) + ": regrow needs the model that holds this state, grown", {"", 0, "dim"});
  std::vector<std::int64_t> fresh;
  fresh.reserve(static_cast<std::size_t>(model.dim() - dim_));
  std::size_t k = 0;
  for (std::int64_t j = 0; j < model.dim(); ++j) {
    const std::int64_t old_place = new_of_old.empty() ? (j < dim_ ? j : -1) : (k < old_dim ? new_of_old[k] : -1);
    if (j == old_place) ++k;
    else fresh.push_back(j);
  }
  dim_ = model.dim();
  if (!fresh.empty()) on_fresh_features(model, fresh);
}

void LinearOptimizer::sync(LinearModel& model) {
  check_model(model);
  on_sync(model);
}

}  // namespace adakit::linear
