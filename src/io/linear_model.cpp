#include "adakit/io/linear_model.hpp"

#include <algorithm>
#include <cstdint>
#include <span>
#include <cctype>
#include <cmath>
#include <new>
#include <cstring>
#include <exception>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/compact_model.hpp"
#include "adakit/linear/registry.hpp"

namespace adakit::io {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& what) {
  throw Error(what, {source, 0, field});
}

// Re-throws an error of a part (model, vectorizer, optimizer) naming the file and `prefix` + its field.
template <class F>
auto naming(const std::string& source, const std::string& prefix, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string& field = e.context().field;
    throw Error(e.message(), {source, 0, field.empty() ? prefix : prefix.empty() ? field : prefix + "." + field});
  }
}

// The safetensors header length when `bytes` starts like a safetensors file (an 8-byte length that
// fits the bytes, then a JSON object), else 0. A JSON document never does: its first 8 bytes are
// text, which as a little-endian length is beyond any file.
std::uint64_t safetensors_header_length(std::string_view bytes) {
  if (bytes.size() < 10) return 0;
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return n >= 2 && n <= bytes.size() - 8 && bytes[8] == '{' ? n : 0;
}

// A model whose vectorizer has another number of features reads columns the model does not have.
void check_vectorizer_width(const LinearModelFile& out, const std::string& source, const std::string& field) {
  if (out.vectorizer && out.vectorizer->fitted() && out.vectorizer->num_features() != out.model.dim())
    fail(source, field,
         "the vectorizer has " + std::to_string(out.vectorizer->num_features()) + " features, the model " +
             std::to_string(out.model.dim()));
}

// A kept optimizer (binary file or checkpoint): made, its state loaded into the model (not synced:
// parse_linear_model syncs unless asked not to).
std::unique_ptr<linear::LinearOptimizer> load_optimizer(SavedLinearOptimizer saved, linear::LinearModel& model,
                                                        const std::string& source) {
  return naming(source, "optim." + saved.name, [&] {
    auto opt = linear::make_linear_optimizer(saved.name, saved.options);
    opt->load_state(model, saved.state);
    return opt;
  });
}

LinearModelFile synced(LinearModelFile file, bool sync) {
  if (sync && file.optimizer) file.optimizer->sync(file.model);
  return file;
}

// The optional calibrator ("calibration" in a JSON file, metadata "adakit.calibration" in a binary or
// compact one): Error naming `field` + its own field on a malformed one.
void read_calibrator(LinearModelFile& out, const json& j, const std::string& source, const std::string& field) {
  linear::Calibrator c = naming(source, field, [&] { return linear::Calibrator::from_json(j); });
  try {
    out.model.set_calibrator(std::move(c));  // its classes against the model's
  } catch (const Error& e) {
    fail(source, field, e.message());
  }
}

// ---- JSON

// `input`: a string_view or an istream (a file is parsed as it is read, never held whole).
template <class Input>
LinearModelFile parse_json_model(Input&& input, const std::string& source) {
  json doc;
  try {
    doc = json::parse(std::forward<Input>(input));
  } catch (const json::exception& e) {
    fail(source, "model", std::string("not a JSON model: ") + e.what());
  }
  LinearModelFile out;
  out.model = naming(source, "", [&] { return linear::LinearModel::from_json(doc); });
  if (doc.value("input", std::string("libsvm")) == "text") {
    if (!doc.contains("vectorizer")) fail(source, "vectorizer", "a text model without its \"vectorizer\"");
    out.vectorizer = naming(source, "vectorizer", [&] { return data::TextVectorizer::from_json(doc["vectorizer"]); });
    check_vectorizer_width(out, source, "vectorizer");
  }
  if (doc.contains("bucket_terms")) {
    if (!out.vectorizer || out.vectorizer->options().hash_bits == 0)
      fail(source, "bucket_terms", "bucket terms belong to a hashed text model; this one has no hashing vectorizer");
    out.bucket_terms = naming(source, "bucket_terms", [&] { return data::BucketTerms::from_json(doc["bucket_terms"], *out.vectorizer); });
  }
  if (doc.contains("calibration")) read_calibrator(out, doc["calibration"], source, "calibration");
  return out;
}

void save_json_model(const std::filesystem::path& path, const linear::LinearModel& model,
                     const data::TextVectorizer* vectorizer, const data::BucketTerms* bucket_terms) {
  json doc = model.to_json();
  doc["input"] = vectorizer != nullptr ? "text" : "libsvm";
  if (vectorizer != nullptr) doc["vectorizer"] = vectorizer->to_json();
  if (bucket_terms != nullptr) doc["bucket_terms"] = bucket_terms->to_json();
  if (model.calibrator() != nullptr) doc["calibration"] = model.calibrator()->to_json();
  write_file_atomic(path, doc.dump());
}

// ---- binary

TensorFile binary_model(const linear::LinearModel& model, const data::TextVectorizer* vectorizer,
                        const linear::LinearOptimizer* optimizer, const data::BucketTerms* bucket_terms) {
  TensorFile f;
  f.metadata["format"] = kLinearModelFormat;
  f.metadata["adakit.architecture"] = model.config().dump();
  f.metadata["adakit.input"] = vectorizer != nullptr ? "text" : "libsvm";
  const linear::LinearModel::Rows rows = model.nonzero_rows();
  f.raw["weight.rows"] = RawTensor::of<std::int64_t>(rows.rows);
  f.tensors["weight.values"] = Tensor({static_cast<std::int64_t>(rows.rows.size()), model.outputs()}, rows.values);
  f.tensors["bias"] = Tensor({model.outputs()}, model.bias());
  if (model.calibrator() != nullptr) f.metadata["adakit.calibration"] = model.calibrator()->to_json().dump();
  if (vectorizer != nullptr) {
    f.metadata["adakit.vectorizer"] = vectorizer->to_json(/*with_tables=*/false).dump();
    f.raw["vectorizer.terms"] = RawTensor{Dtype::U8, {static_cast<std::int64_t>(vectorizer->terms().size())}, vectorizer->terms()};
    f.raw["vectorizer.term_offsets"] = RawTensor::of<std::int64_t>(vectorizer->term_offsets());
    f.raw["vectorizer.idf"] = RawTensor::of<double>(vectorizer->idf());
    f.raw["vectorizer.idf_columns"] = RawTensor::of<std::int32_t>(vectorizer->idf_columns());
  }
  if (bucket_terms != nullptr) {
    const data::BucketTerms::Tables& t = bucket_terms->tables();
    f.metadata["adakit.bucket_terms"] = json{{"per_bucket", t.per_bucket}}.dump();
    f.raw["bucket_terms.columns"] = RawTensor::of<std::int32_t>(t.columns);
    f.raw["bucket_terms.starts"] = RawTensor::of<std::int64_t>(t.starts);
    f.raw["bucket_terms.terms"] = RawTensor{Dtype::U8, {static_cast<std::int64_t>(t.terms.size())}, t.terms};
    f.raw["bucket_terms.term_offsets"] = RawTensor::of<std::int64_t>(t.term_offsets);
    f.raw["bucket_terms.counts"] = RawTensor::of<std::int64_t>(t.counts);
  }
  if (optimizer != nullptr)
    put_linear_optimizer(f, optimizer->name(), optimizer->option_map(), optimizer->state(model));
  return f;
}

// The tensors of a binary model file, taken one by one (what is left at the end is unexpected).
class Entries {
 public:
  Entries(SafetensorsView view, std::string source) : view_(std::move(view)), source_(std::move(source)) {}
  const std::string& source() const { return source_; }
  std::map<std::string, std::string>& metadata() { return view_.metadata; }

  // The named tensor, of this dtype and rank; Error naming it otherwise.
  TensorView take(const std::string& name, Dtype dtype, std::size_t rank) {
    const auto it = view_.tensors.find(name);
    if (it == view_.tensors.end()) fail(source_, name, "tensor is missing");
    TensorView t = it->second;
    view_.tensors.erase(it);
    if (t.dtype != dtype)
      fail(source_, name, "dtype " + std::string(dtype_name(t.dtype)) + ", expected " + std::string(dtype_name(dtype)));
    if (t.shape.size() != rank)
      fail(source_, name, "expected a rank-" + std::to_string(rank) + " tensor, got " + shape_to_string(t.shape));
    return t;
  }
  template <class T>
  std::vector<T> values(const std::string& name) {
    const TensorView t = take(name, detail::dtype_of<T>(), 1);
    std::vector<T> v(t.bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(T));
    return v;
  }
  // Floats of an F32 tensor of this shape: a view of the file where it is aligned, else a copy in `copy`.
  std::span<const float> floats(const std::string& name, const Shape& shape, std::vector<float>& copy) {
    const TensorView t = take(name, Dtype::F32, shape.size());
    if (t.shape != shape) fail(source_, name, "has shape " + shape_to_string(t.shape) + ", expected " + shape_to_string(shape));
    const std::size_t n = t.bytes.size() / sizeof(float);
    if (reinterpret_cast<std::uintptr_t>(t.bytes.data()) % alignof(float) == 0)
      return {reinterpret_cast<const float*>(t.bytes.data()), n};
    copy.resize(n);
    if (n > 0) std::memcpy(copy.data(), t.bytes.data(), n * sizeof(float));
    return copy;
  }
  // The F32 tensors named prefix..., copied out as a TensorFile with the metadata (for take_linear_optimizer).
  TensorFile take_f32_prefixed(const std::string& prefix) {
    SafetensorsView taken;
    taken.metadata = view_.metadata;
    for (auto it = view_.tensors.begin(); it != view_.tensors.end();) {
      if (!it->first.starts_with(prefix) || it->second.dtype != Dtype::F32) {
        ++it;
        continue;
      }
      taken.tensors.insert(view_.tensors.extract(it++));
    }
    return to_tensor_file(std::move(taken));
  }
  const std::string& meta(const std::string& key) const {
    const auto it = view_.metadata.find(key);
    if (it == view_.metadata.end()) fail(source_, key, "missing entry (not a complete adakit model file)");
    return it->second;
  }
  json meta_json(const std::string& key) const {
    const json j = json::parse(meta(key), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) fail(source_, key, "expected a JSON object");
    return j;
  }
  void check_all_taken() const {
    if (!view_.tensors.empty()) fail(source_, view_.tensors.begin()->first, "unexpected tensor");
  }

 private:
  SafetensorsView view_;
  std::string source_;
};

data::TextVectorizer binary_vectorizer(Entries& e) {
  const std::string& source = e.source();
  const json header = e.meta_json("adakit.vectorizer");
  data::TextVectorizer::Tables tables;
  tables.terms = std::string(e.take("vectorizer.terms", Dtype::U8, 1).bytes);
  tables.term_offsets = e.values<std::int64_t>("vectorizer.term_offsets");
  tables.idf = e.values<double>("vectorizer.idf");
  tables.idf_columns = e.values<std::int32_t>("vectorizer.idf_columns");
  try {
    return data::TextVectorizer::from_json(header, std::move(tables));
  } catch (const Error& err) {
    const std::string& field = err.context().field;
    const std::string name = field == "feature_names" ? "vectorizer.terms"
                             : field == "term_offsets" ? "vectorizer.term_offsets"
                             : field == "idf"          ? "vectorizer.idf"
                             : field == "idf_columns"  ? "vectorizer.idf_columns"
                             : field.empty()           ? "adakit.vectorizer"
                                                       : "adakit.vectorizer." + field;
    throw Error(err.message(), {source, 0, name});
  }
}

// The optional bucket terms of a hashed text model ("adakit.bucket_terms" and its tensors).
data::BucketTerms binary_bucket_terms(Entries& e, const data::TextVectorizer& vectorizer) {
  const std::string& source = e.source();
  const json header = e.meta_json("adakit.bucket_terms");
  data::BucketTerms::Tables t;
  if (!header.contains("per_bucket") || !header["per_bucket"].is_number_integer())
    fail(source, "adakit.bucket_terms.per_bucket", "expected an integer");
  t.per_bucket = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(header["per_bucket"].get<std::int64_t>(), -1, data::kMaxBucketTermsPerBucket + 1));
  t.columns = e.values<std::int32_t>("bucket_terms.columns");
  t.starts = e.values<std::int64_t>("bucket_terms.starts");
  t.terms = std::string(e.take("bucket_terms.terms", Dtype::U8, 1).bytes);
  t.term_offsets = e.values<std::int64_t>("bucket_terms.term_offsets");
  t.counts = e.values<std::int64_t>("bucket_terms.counts");
  try {
    return data::BucketTerms::from_tables(std::move(t), vectorizer);
  } catch (const Error& err) {
    const std::string& field = err.context().field;
    throw Error(err.message(), {source, 0, field == "per_bucket" ? "adakit.bucket_terms.per_bucket"
                                           : field.empty()         ? "adakit.bucket_terms"
                                                                   : "bucket_terms." + field});
  }
}

LinearModelFile parse_binary_model(Entries& e) {
  const std::string& source = e.source();
  LinearModelFile out;
  const json arch = e.meta_json("adakit.architecture");
  const std::string& input = e.meta("adakit.input");
  if (input != "text" && input != "libsvm") fail(source, "adakit.input", "expected \"text\" or \"libsvm\", got '" + input + "'");
  // A text model's vectorizer first: its width is the model's dim, checked before the weights are made.
  if (input == "text") {
    out.vectorizer = binary_vectorizer(e);
    if (out.vectorizer->fitted() && arch.contains("dim") && arch["dim"] != out.vectorizer->num_features())
      fail(source, "adakit.architecture",
           "the model has dim " + arch["dim"].dump() + ", its vectorizer " + std::to_string(out.vectorizer->num_features()) +
               " features");
  }
  out.model = naming(source, "adakit.architecture", [&] {
    try {
      return linear::LinearModel::from_config(arch);
    } catch (const std::bad_alloc&) {
      throw Error("the model's weights (" + arch.dump() + ") do not fit in memory");
    }
  });
  const std::vector<std::int64_t> rows = e.values<std::int64_t>("weight.rows");
  std::vector<float> values_copy, bias_copy;
  const auto values = e.floats("weight.values", {static_cast<std::int64_t>(rows.size()), out.model.outputs()}, values_copy);
  const auto bias = e.floats("bias", {out.model.outputs()}, bias_copy);
  naming(source, "weight", [&] {
    out.model.put_rows(rows, values);
    return 0;
  });
  for (const float b : bias)
    if (!std::isfinite(b)) fail(source, "bias", "holds a value that is not finite");
  std::copy(bias.begin(), bias.end(), out.model.bias().begin());
  if (e.metadata().contains("adakit.calibration"))
    read_calibrator(out, e.meta_json("adakit.calibration"), source, "adakit.calibration");
  if (e.metadata().contains("adakit.bucket_terms")) {
    if (!out.vectorizer || out.vectorizer->options().hash_bits == 0)
      fail(source, "adakit.bucket_terms", "bucket terms belong to a hashed text model; this one has no hashing vectorizer");
    out.bucket_terms = binary_bucket_terms(e, *out.vectorizer);
  }
  if (e.metadata().contains("optim.name")) {
    TensorFile state = e.take_f32_prefixed("optim.");
    out.optimizer = load_optimizer(take_linear_optimizer(state, source), out.model, source);
    if (!state.tensors.empty()) fail(source, state.tensors.begin()->first, "unexpected tensor");
  }
  e.check_all_taken();
  // Strict: an entry this format does not have is damage (a corrupted checksum key would otherwise
  // read as an unknown entry, and its check be skipped).
  for (const auto& [k, v] : e.metadata()) {
    const bool known = k == "format" || k == "adakit.architecture" || k == "adakit.input" ||
                       (k == "adakit.vectorizer" && out.vectorizer) || (k == "adakit.bucket_terms" && out.bucket_terms) ||
                       (k == "adakit.calibration" && out.model.calibrator() != nullptr) ||
                       (out.optimizer && (k == "optim.name" || k.starts_with("optim.meta.") ||
                                          k == "optim.counter.optimizer.steps" || k == "optim.counter.optimizer.touched"));
    if (!known) fail(source, k, "unexpected metadata entry (a damaged file?)");
  }
  return out;
}

// ---- checkpoint

LinearModelFile checkpoint_model(TensorFile file, const std::string& source) {
  LinearModelFile out;
  LinearCheckpoint c = parse_linear_checkpoint(std::move(file), source);
  out.model = std::move(c.model);
  out.optimizer = load_optimizer({c.optimizer, c.options, c.state}, out.model, source);
  const auto input = c.metadata.find("adakit.input");
  if (input == c.metadata.end() || input->second != "text") return out;
  const auto v = c.metadata.find("adakit.vectorizer");
  if (v == c.metadata.end()) fail(source, "adakit.vectorizer", "a text model without its vectorizer");
  const auto j = json::parse(v->second, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(source, "adakit.vectorizer", "expected the vectorizer as JSON");
  out.vectorizer = naming(source, "adakit.vectorizer", [&] { return data::TextVectorizer::from_json(j); });
  check_vectorizer_width(out, source, "adakit.vectorizer");
  return out;
}

// The metadata "format" of a safetensors file ("" without one), or nullopt when the file does not
// start like one. Reads the header only.
std::optional<std::string> safetensors_format(const std::filesystem::path& path);

}  // namespace

bool is_json_model_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".json";
}

void save_linear_model(const std::filesystem::path& path, const linear::LinearModel& model,
                       const data::TextVectorizer* vectorizer, const linear::LinearOptimizer* optimizer,
                       const data::BucketTerms* bucket_terms) {
  if (bucket_terms != nullptr && (vectorizer == nullptr || vectorizer->options().hash_bits == 0))
    throw UsageError("bucket terms name the columns of a hashed text model (--hash-bits); this model has none",
                     {path.string(), 0, "keep-bucket-names"});
  if (bucket_terms != nullptr)  // never a file this reader refuses: the checks read_linear_model makes
    naming(path.string(), "bucket_terms", [&] { return data::BucketTerms::from_tables(bucket_terms->tables(), *vectorizer); });
  if (is_json_model_path(path)) {
    if (optimizer != nullptr)
      throw UsageError("a JSON model file keeps no optimizer state: save to a binary file (not .json)",
                       {path.string(), 0, "save"});
    save_json_model(path, model, vectorizer, bucket_terms);
    return;
  }
  write_safetensors(path, binary_model(model, vectorizer, optimizer, bucket_terms));
}

LinearModelFile parse_linear_model(std::string_view bytes, const std::string& source, bool verify_checksums,
                                   bool sync_weights) {
  if (safetensors_header_length(bytes) == 0) {
    const auto first = std::find_if(bytes.begin(), bytes.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
    if (first == bytes.end() || *first != '{')
      fail(source, "model", "not a sparse model file (neither an adakit binary model nor a JSON document)");
    return parse_json_model(bytes, source);
  }
  SafetensorsView view = parse_safetensors_view(bytes, source, verify_checksums, /*defer_payload_check=*/true);
  const auto format = view.metadata.find("format");
  if (format != view.metadata.end() && format->second == kLinearCheckpointFormat) {
    check_payload(view, source);
    return synced(checkpoint_model(to_tensor_file(std::move(view)), source), sync_weights);
  }
  if (format != view.metadata.end() && format->second == kCompactModelFormat) {  // adakit export's
    check_payload(view, source);
    const CompactModel compact = parse_compact_model(view, source);
    return naming(source, "", [&] { return compact.to_model_file(); });
  }
  if (format == view.metadata.end() || format->second != kLinearModelFormat)
    fail(source, "format",
         "not a sparse model file: format '" + (format == view.metadata.end() ? std::string() : format->second) +
             "', expected '" + kLinearModelFormat + "'");
  // The payload's checksum (a pass over every byte) runs on a second thread while this one builds
  // the model; a mismatch is the error reported, whatever the parse made of the damaged bytes.
  std::future<void> checked;
  if (!view.payload_checksum.empty())
    checked = std::async(std::launch::async, [&view, &source] { check_payload(view, source); });
  std::optional<LinearModelFile> out;
  std::exception_ptr parse_error;
  try {
    Entries entries(view, source);
    out = parse_binary_model(entries);
  } catch (...) {
    parse_error = std::current_exception();
  }
  if (checked.valid()) checked.get();  // throws the checksum error first
  if (parse_error) std::rethrow_exception(parse_error);
  return synced(std::move(*out), sync_weights);
}

LinearModelFile read_linear_model(const std::filesystem::path& path, bool sync_weights) {
  const std::string source = path.string();
  if (!safetensors_format(path)) {  // JSON (or not a model): parsed as it is read
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) fail(source, "model", "cannot open the model file");
    char c = 0;
    while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
    }
    if (!in || c != '{') fail(source, "model", "not a sparse model file (neither an adakit binary model nor a JSON document)");
    in.unget();
    return parse_json_model(in, source);
  }
  std::optional<MappedFile> file;
  try {
    file.emplace(path);
  } catch (const Error& e) {
    fail(source, "model", "cannot read the model file: " + e.message());
  }
  return parse_linear_model(file->bytes(), source, true, sync_weights);
}

namespace {
std::optional<std::string> safetensors_format(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char len[8] = {};
  if (!in.read(len, 8)) return std::nullopt;
  std::uint64_t n = 0;
  std::memcpy(&n, len, 8);
  if (n < 2 || n > (std::uint64_t{1} << 24)) return std::nullopt;
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n)) || header[0] != '{') return std::nullopt;
  const auto j = json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  if (!j.contains("__metadata__") || !j["__metadata__"].is_object()) return std::string();
  return j["__metadata__"].value("format", std::string());
}
}  // namespace

bool is_linear_checkpoint_file(const std::filesystem::path& path) {
  return safetensors_format(path) == std::optional<std::string>(kLinearCheckpointFormat);
}

bool is_linear_model_file(const std::filesystem::path& path) {
  if (const auto format = safetensors_format(path))
    return *format == kLinearCheckpointFormat || *format == kLinearModelFormat || *format == kCompactModelFormat;
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c))
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
  return false;
}

data::SparseDataset read_for_model(const LinearModelFile& file, const std::string& name_or_path,
                                   const std::filesystem::path& data_dir) {
  const linear::LinearModel& model = file.model;
  const bool multilabel = model.task() == linear::LinearTask::ova;  // comma-separated label sets
  if (file.vectorizer) {
    data::TextDataset t = data::load_text(name_or_path, data_dir, false, multilabel);
    if (!model.class_names().empty())
      data::align_labels(t.labels, t.class_names, model.class_names(), name_or_path, &t.label_sets);
    return data::vectorize(t, *file.vectorizer);
  }
  data::LibsvmOptions lo;
  lo.task = model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                         : data::LibsvmOptions::Task::classification;
  lo.multilabel = multilabel;
  data::SparseDataset d = data::read_libsvm(name_or_path, lo);
  data::fit_columns(d.features, model.dim());
  if (d.is_classification() && !model.class_names().empty())
    data::align_labels(d.labels, d.class_names, model.class_names(), name_or_path, &d.label_sets);
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
