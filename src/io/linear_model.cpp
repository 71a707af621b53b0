#include "adakit/io/linear_model.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/linear/registry.hpp"

namespace adakit::io {
namespace {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the model file", {path.string(), 0, "model"});
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("not a JSON model: ") + e.what(), {path.string(), 0, "model"});
  }
}

data::TextVectorizer vectorizer_from(const nlohmann::json& j, const std::string& file, const std::string& field) {
  try {
    return data::TextVectorizer::from_json(j);
  } catch (const Error& e) {
    throw Error(e.message(), {file, 0, field + "." + e.context().field});
  }
}

LinearModelFile read_checkpoint_model(const std::string& path) {
  LinearModelFile out;
  LinearCheckpoint c = read_linear_checkpoint(path);
  out.model = std::move(c.model);
  try {
    auto opt = linear::make_linear_optimizer(c.optimizer, c.options);
    opt->load_state(out.model, c.state);
    opt->sync(out.model);
  } catch (const Error& e) {
    throw Error(e.message(), {path, 0, "optim." + c.optimizer + "." + e.context().field});
  }
  const auto input = c.metadata.find("adakit.input");
  if (input == c.metadata.end() || input->second != "text") return out;
  const auto v = c.metadata.find("adakit.vectorizer");
  if (v == c.metadata.end()) throw Error("a text model without its vectorizer", {path, 0, "adakit.vectorizer"});
  const auto j = nlohmann::json::parse(v->second, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error("expected the vectorizer as JSON", {path, 0, "adakit.vectorizer"});
  out.vectorizer = vectorizer_from(j, path, "adakit.vectorizer");
  return out;
}

}  // namespace

void save_linear_model(const std::filesystem::path& path, const linear::LinearModel& model,
                       const data::TextVectorizer* vectorizer) {
  nlohmann::json doc = model.to_json();
  doc["input"] = vectorizer != nullptr ? "text" : "libsvm";
  if (vectorizer != nullptr) doc["vectorizer"] = vectorizer->to_json();
  write_file_atomic(path, doc.dump());
}

LinearModelFile read_linear_model(const std::filesystem::path& file) {
  const std::string path = file.string();
  if (is_linear_checkpoint_file(file)) return read_checkpoint_model(path);
  LinearModelFile out;
  const nlohmann::json doc = read_json_file(file);
  try {
    out.model = linear::LinearModel::from_json(doc);
  } catch (const Error& e) {
    throw Error(e.message(), {path, 0, e.context().field});
  }
  if (doc.value("input", std::string("libsvm")) == "text") {
    if (!doc.contains("vectorizer")) throw Error("a text model without its \"vectorizer\"", {path, 0, "vectorizer"});
    out.vectorizer = vectorizer_from(doc["vectorizer"], path, "vectorizer");
  }
  return out;
}

bool is_linear_checkpoint_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8] = {};
  if (!in.read(reinterpret_cast<char*>(len), 8)) return false;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | len[i];
  if (n == 0 || n > (std::uint64_t{1} << 24)) return false;
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) return false;
  const auto j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("__metadata__") && j["__metadata__"].is_object() &&
         j["__metadata__"].value("format", std::string()) == kLinearCheckpointFormat;
}

bool is_linear_model_file(const std::filesystem::path& path) {
  if (is_linear_checkpoint_file(path)) return true;
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c))
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
  return false;
}

data::SparseDataset read_for_model(const LinearModelFile& file, const std::string& name_or_path,
                                   const std::filesystem::path& data_dir) {
  const linear::LinearModel& model = file.model;
  if (file.vectorizer) {
    data::TextDataset t = data::load_text(name_or_path, data_dir);
    if (!model.class_names().empty()) data::align_labels(t.labels, t.class_names, model.class_names(), name_or_path);
    return data::vectorize(t, *file.vectorizer);
  }
  data::LibsvmOptions lo;
  lo.task = model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                         : data::LibsvmOptions::Task::classification;
  data::SparseDataset d = data::read_libsvm(name_or_path, lo);
  data::fit_columns(d.features, model.dim());
  if (d.is_classification() && !model.class_names().empty())
    data::align_labels(d.labels, d.class_names, model.class_names(), name_or_path);
  return d;
}

std::map<std::string, std::string> linear_model_metadata(const data::TextVectorizer* vectorizer) {
  std::map<std::string, std::string> meta{{"adakit.input", vectorizer != nullptr ? "text" : "libsvm"}};
  if (vectorizer != nullptr) meta["adakit.vectorizer"] = vectorizer->to_json().dump();
  return meta;
}

linear::FitState restore_linear_checkpoint(const LinearCheckpoint& c, linear::LinearModel& model,
                                           linear::LinearOptimizer& optimizer, const std::string& source) {
  if (c.model.config() != model.config())
    throw Error("the checkpoint's model differs from this one: saved " + c.model.config().dump() + ", this run builds " +
                    model.config().dump(),
                {source, 0, "adakit.architecture"});
  try {
    optimizer.load_state(model, c.state);
  } catch (const Error& e) {
    throw Error(e.message(), {source, 0, "optim." + std::string(optimizer.name()) + "." + e.context().field});
  }
  std::copy(c.model.weights().begin(), c.model.weights().end(), model.weights().begin());
  std::copy(c.model.bias().begin(), c.model.bias().end(), model.bias().begin());
  return c.fit;
}

}  // namespace adakit::io
