#include "adakit/nn/sequential.hpp"

#include <cstring>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/nn/kernels.hpp"
#include "util.hpp"

namespace adakit::nn {

using json = nlohmann::json;

void Sequential::add(std::unique_ptr<Layer> layer) {
  if (!layer) throw UsageError("Sequential::add: null layer");
  const std::string prefix = std::to_string(layers_.size()) + ".";
  for (Parameter* p : layer->parameters()) p->set_name(prefix + p->name());
  layer->set_input_grad(!layers_.empty() || input_grad_);
  layers_.push_back(std::move(layer));
  ready_ = false;
}

void Sequential::set_input_grad(bool on) {
  input_grad_ = on;
  if (!layers_.empty()) layers_.front()->set_input_grad(on);
}

const Tensor& Sequential::forward(const Tensor& x, bool training) {
  sync_blas_threads();
  ready_ = false;
  const std::size_t n = layers_.size();
  acts_.resize(n + 1);
  grads_.resize(n + 1);
  if (&x != &acts_[0]) {
    detail::ensure_shape(acts_[0], x.shape());
    if (x.numel() > 0) std::memcpy(acts_[0].data(), x.data(), static_cast<std::size_t>(x.numel()) * sizeof(float));
  }
  for (std::size_t i = 0; i < n; ++i) layers_[i]->forward(acts_[i], acts_[i + 1], training);
  ready_ = true;
  return acts_[n];
}

void Sequential::backward(const Tensor& dloss) {
  if (!ready_) throw UsageError("Sequential::backward: call forward() first (once per backward())");
  const std::size_t n = layers_.size();
  if (dloss.shape() != acts_[n].shape())
    throw UsageError("Sequential::backward: loss gradient " + shape_to_string(dloss.shape()) +
                     " differs from the output " + shape_to_string(acts_[n].shape()));
  sync_blas_threads();
  if (n == 0) {
    if (input_grad_) grads_[0] = dloss;
    return;
  }
  ready_ = false;  // layers reuse forward state (convolution columns) while going backward
  for (std::size_t i = n; i-- > 0;) {
    const Tensor& dy = i + 1 == n ? dloss : grads_[i + 1];
    layers_[i]->backward(acts_[i], acts_[i + 1], dy, grads_[i]);
    if (backward_hook_) backward_hook_(i);
  }
}

std::vector<std::pair<std::string, Rng*>> Sequential::random_streams() {
  std::vector<std::pair<std::string, Rng*>> out;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (Rng* r = layers_[i]->random_stream()) out.emplace_back(std::to_string(i), r);
  return out;
}

std::vector<Parameter*> Sequential::parameters() {
  std::vector<Parameter*> all;
  for (auto& layer : layers_)
    for (Parameter* p : layer->parameters()) all.push_back(p);
  return all;
}

std::int64_t Sequential::num_parameters() const {
  std::int64_t total = 0;
  for (const auto& layer : layers_) total += layer->num_parameters();
  return total;
}

void Sequential::zero_grad() {
  for (auto& layer : layers_)
    for (Parameter* p : layer->parameters()) p->zero_grad();
}

Shape Sequential::output_shape(const Shape& input) const {
  Shape shape = input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      shape = layers_[i]->output_shape(shape);
    } catch (const UsageError& e) {
      throw UsageError("layer " + std::to_string(i) + " (" + layers_[i]->kind() + "): " + e.message(), e.context());
    }
  }
  return shape;
}

json Sequential::config() const {
  json layers = json::array();
  for (const auto& layer : layers_) layers.push_back(layer->config());
  return {{"kind", "sequential"}, {"layers", std::move(layers)}};
}

Sequential Sequential::from_config(const json& config, std::int64_t max_parameters) {
  const json* layers = &config;
  if (config.is_object()) {
    if (!config.contains("kind") || config.at("kind") != "sequential")
      throw Error("model config: field 'kind' must be \"sequential\"", {"", 0, "kind"});
    if (!config.contains("layers")) throw Error("model config: field 'layers' is missing", {"", 0, "layers"});
    for (const auto& item : config.items())
      if (item.key() != "kind" && item.key() != "layers")
        throw Error("model config: unknown field '" + item.key() + "'", {"", 0, item.key()});
    layers = &config.at("layers");
  }
  if (!layers->is_array()) throw Error("model config: 'layers' must be an array of layer configs", {"", 0, "layers"});
  std::int64_t declared = 0;
  for (const auto& layer : *layers) {
    const std::int64_t n = declared_parameters(layer);
    if (n > max_parameters - declared)
      throw Error("model config declares more than " + std::to_string(max_parameters) +
                      " parameter values, the most this source holds",
                  {"", 0, "layers"});
    declared += n;
  }
  Sequential model;
  for (std::size_t i = 0; i < layers->size(); ++i) {
    try {
      model.add(make_layer((*layers)[i]));
    } catch (const Error& e) {
      const std::string where = "layers[" + std::to_string(i) + "]";
      throw Error(where + ": " + e.message(),
                  {"", 0, e.context().field.empty() ? where : where + "." + e.context().field});
    }
  }
  return model;
}

std::string Sequential::summary(const Shape& input) const {
  std::ostringstream out;
  out << std::left << std::setw(4) << "#" << std::setw(48) << "layer" << std::setw(20) << "output shape"
      << std::right << std::setw(12) << "parameters" << "\n";
  out << std::left << std::setw(4) << "" << std::setw(48) << "input" << std::setw(20) << shape_to_string(input) << "\n";
  Shape shape = input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    shape = layers_[i]->output_shape(shape);
    std::string desc = layers_[i]->kind();
    const json c = layers_[i]->config();
    std::string args;
    for (const auto& item : c.items()) {
      if (item.key() == "kind" || item.key() == "seed" || item.key() == "init") continue;
      args += (args.empty() ? "" : ", ") + item.key() + "=" + item.value().dump();
    }
    if (!args.empty()) desc += "(" + args + ")";
    out << std::left << std::setw(4) << i << std::setw(48) << desc << std::setw(20) << shape_to_string(shape)
        << std::right << std::setw(12) << layers_[i]->num_parameters() << "\n";
  }
  out << "total parameters: " << num_parameters() << "\n";
  return out.str();
}

}  // namespace adakit::nn
