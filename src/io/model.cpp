#include "adakit/io/model.hpp"

#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"

namespace adakit::io {

void save_model(const std::filesystem::path& path, nn::Sequential& model, const ModelInfo& info) {
  TensorFile f;
  for (auto* p : model.parameters()) f.tensors.emplace(p->name(), p->value());
  f.metadata["format"] = "adakit.model.v1";
  f.metadata["adakit.architecture"] = model.config().dump();
  nlohmann::json j = {{"objective", info.objective},       {"input_shape", info.input_shape},
                      {"class_names", info.class_names},   {"feature_names", info.feature_names},
                      {"scaler_mean", info.scaler_mean},   {"scaler_scale", info.scaler_scale},
                      {"dataset", info.dataset}};
  f.metadata["adakit.task"] = j.dump();
  write_safetensors(path, f);
}

LoadedModel load_model(const std::filesystem::path& path) {
  const std::string where = path.string();
  TensorFile f = read_safetensors(path);
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw Error("not an adakit model file (no " + key + ")", {where, 0, key});
    return it->second;
  };
  if (meta("format") != "adakit.model.v1")
    throw Error("unsupported model format '" + meta("format") + "'", {where, 0, "format"});
  LoadedModel out;
  try {
    out.model = nn::Sequential::from_config(nlohmann::json::parse(meta("adakit.architecture")));
    const auto j = nlohmann::json::parse(meta("adakit.task"));
    out.info.objective = j.at("objective").get<std::string>();
    out.info.input_shape = j.at("input_shape").get<Shape>();
    out.info.class_names = j.at("class_names").get<std::vector<std::string>>();
    out.info.feature_names = j.at("feature_names").get<std::vector<std::string>>();
    out.info.scaler_mean = j.at("scaler_mean").get<std::vector<float>>();
    out.info.scaler_scale = j.at("scaler_scale").get<std::vector<float>>();
    out.info.dataset = j.at("dataset").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("bad model metadata: ") + e.what(), {where, 0, "adakit.task"});
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
