#include "adakit/io/model.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/safetensors.hpp"

namespace adakit::io {

std::string task_json(const ModelInfo& info) {
  nlohmann::json j = {{"objective", info.objective},       {"input_shape", info.input_shape},
                      {"class_names", info.class_names},   {"feature_names", info.feature_names},
                      {"scaler_mean", info.scaler_mean},   {"scaler_scale", info.scaler_scale},
                      {"dataset", info.dataset}};
  return j.dump();
}

ModelInfo model_info(const data::PreparedData& d, std::string objective, std::string dataset) {
  return {.objective = std::move(objective), .input_shape = d.train.sample_shape(), .class_names = d.train.class_names,
          .feature_names = d.train.feature_names, .scaler_mean = d.scaler.mean, .scaler_scale = d.scaler.scale,
          .dataset = std::move(dataset)};
}

void save_model(const std::filesystem::path& path, nn::Sequential& model, const ModelInfo& info,
                const optim::Optimizer* optimizer) {
  TensorFile f;
  for (auto* p : model.parameters()) f.tensors.emplace(p->name(), p->value());
  f.metadata["format"] = "adakit.model.v1";
  f.metadata["adakit.architecture"] = model.config().dump();
  f.metadata["adakit.task"] = task_json(info);
  if (optimizer != nullptr) {
    put_optimizer(f, *optimizer);
    put_random_streams(f, model);
  }
  write_safetensors(path, f);
}

LoadedModel load_model(const std::filesystem::path& path) { return model_from_tensor_file(read_safetensors(path), path.string()); }

LoadedModel model_from_tensor_file(const TensorFile& f, const std::string& where) {
  require_f32(f, where);
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw Error("not an adakit model file (no " + key + ")", {where, 0, key});
    return it->second;
  };
  // A checkpoint that carries the task (adakit train --checkpoint) predicts as a model file does.
  if (meta("format") != "adakit.model.v1" && meta("format") != "adakit.checkpoint.v1")
    throw Error("unsupported model format '" + meta("format") + "', expected 'adakit.model.v1'", {where, 0, "format"});
  LoadedModel out;
  try {
    // The architecture may not declare more parameter values than the file holds: a corrupted size
    // is an error here, not an allocation.
    std::int64_t held = 0;
    for (const auto& [name, t] : f.tensors) held += t.numel();
    out.model = nn::Sequential::from_config(nlohmann::json::parse(meta("adakit.architecture")), held);
    const auto j = nlohmann::json::parse(meta("adakit.task"));
    const auto bad = [&](const std::string& field, const std::string& what) -> Error {
      return Error(what, {where, 0, "adakit.task." + field});
    };
    if (!j.is_object()) throw bad("", "expected a JSON object");
    out.info.objective = j.at("objective").get<std::string>();
    if (out.info.objective != "softmax_ce" && out.info.objective != "binary_logistic" && out.info.objective != "mse")
      throw bad("objective", "unknown objective '" + out.info.objective + "' (softmax_ce, binary_logistic, mse)");
    const auto& shape = j.at("input_shape");
    if (!shape.is_array() || shape.empty()) throw bad("input_shape", "expected a list of positive integers");
    std::int64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() == 0 || d.get<std::uint64_t>() > (1ULL << 31) ||
          __builtin_mul_overflow(numel, d.get<std::int64_t>(), &numel) || numel > (std::int64_t{1} << 31))
        throw bad("input_shape", "expected a list of positive integers (at most 2^31 values), got " + shape.dump());
      out.info.input_shape.push_back(d.get<std::int64_t>());
    }
    out.info.class_names = j.at("class_names").get<std::vector<std::string>>();
    out.info.feature_names = j.at("feature_names").get<std::vector<std::string>>();
    for (const char* key : {"scaler_mean", "scaler_scale"}) {
      const auto& v = j.at(key);
      if (!v.is_array() || (!v.empty() && static_cast<std::int64_t>(v.size()) != numel))
        throw bad(key, "expected an empty list or " + std::to_string(numel) + " numbers (one per input value)");
      auto& dst = std::string_view(key) == "scaler_mean" ? out.info.scaler_mean : out.info.scaler_scale;
      for (const auto& x : v) {
        if (!x.is_number() || !(std::abs(x.get<double>()) <= std::numeric_limits<float>::max())) throw bad(key, "expected finite float values, got " + x.dump());
        dst.push_back(static_cast<float>(x.get<double>()));
      }
    }
    if (out.info.scaler_mean.size() != out.info.scaler_scale.size())
      throw bad("scaler_scale", "scaler_mean and scaler_scale differ in length");
    out.info.dataset = j.at("dataset").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("bad model metadata: ") + e.what(), {where, 0, "adakit.task"});
  } catch (const Error& e) {
    if (!e.context().file.empty()) throw;
    throw Error(e.message(), {where, 0, "adakit.architecture" + (e.context().field.empty() ? "" : "." + e.context().field)});
  }
  for (auto* p : out.model.parameters()) {
    auto it = f.tensors.find(p->name());
    if (it == f.tensors.end()) throw Error("the file has no tensor for this parameter", {where, 0, p->name()});
    if (it->second.shape() != p->shape())
      throw Error("shape " + shape_to_string(it->second.shape()) + " does not match the architecture's " +
                      shape_to_string(p->shape()),
                  {where, 0, p->name()});
    p->value() = it->second;
  }
  return out;
}

}  // namespace adakit::io
