#include "adakit/io/checkpoint.hpp"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/run/json.hpp"
#include "adakit/run/schedule.hpp"

namespace adakit::io {
namespace {

using json = nlohmann::json;

constexpr std::string_view kOptimPrefix = "optim.";
constexpr std::string_view kCounterPrefix = "optim.counter.";
constexpr std::string_view kMetaPrefix = "optim.meta.";
constexpr std::string_view kBestPrefix = "train.best.";
constexpr std::string_view kRngPrefix = "model.rng.";

bool reserved_key(const std::string& k) {
  return k == "format" || k == "adakit.architecture" || k.starts_with("optim.") || k.starts_with("train.") ||
         k.starts_with(kRngPrefix);
}

std::string hex_word(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

std::string rng_text(const Rng::State& s) {
  std::uint64_t cached = 0;
  std::memcpy(&cached, &s.cached_normal, sizeof cached);
  return hex_word(s.s[0]) + "," + hex_word(s.s[1]) + "," + hex_word(s.s[2]) + "," + hex_word(s.s[3]) + "," +
         (s.has_cached_normal ? "1" : "0") + "," + hex_word(cached);
}

// Reads the checkpoint's metadata entries, each with an error naming the file and the key.
class Fields {
 public:
  Fields(const std::map<std::string, std::string>& meta, std::string source) : meta_(meta), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(what, {source_, 0, key});
  }
  const std::string& text(const std::string& key) const {
    auto it = meta_.find(key);
    if (it == meta_.end()) fail(key, "missing entry (not a complete adakit checkpoint)");
    return it->second;
  }
  std::int64_t integer(const std::string& key) const { return parse_integer(key, text(key)); }
  std::int64_t parse_integer(const std::string& key, const std::string& t) const {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size())
      fail(key, "expected an integer, got '" + t + "'");
    return v;
  }
  double real(const std::string& key) const { return parse_real(key, text(key)); }
  double parse_real(const std::string& key, const std::string& t) const {
    double v = 0.0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size())
      fail(key, "expected a number, got '" + t + "'");
    return v;
  }
  bool flag(const std::string& key) const {
    const std::string& t = text(key);
    if (t != "0" && t != "1") fail(key, "expected 0 or 1, got '" + t + "'");
    return t == "1";
  }
  Rng::State rng(const std::string& key) const { return parse_rng(key, text(key)); }
  Rng::State parse_rng(const std::string& key, const std::string& t) const {
    // 6 comma-separated fields: 4 hex words, 0/1, the cached normal's bits in hex.
    std::uint64_t w[6] = {};
    std::size_t pos = 0;
    for (int i = 0; i < 6; ++i) {
      const std::size_t comma = i < 5 ? t.find(',', pos) : t.size();
      const std::size_t end = comma == std::string::npos ? t.size() : comma;
      const auto [p, ec] = std::from_chars(t.data() + pos, t.data() + end, w[i], 16);
      if (comma == std::string::npos || pos == end || ec != std::errc() || p != t.data() + end ||
          (i == 4 && w[i] > 1))
        fail(key, "expected a random generator state (4 hex words, 0 or 1, a hex word), got '" + t + "'");
      pos = end + 1;
    }
    Rng::State s{};
    for (int i = 0; i < 4; ++i) s.s[static_cast<std::size_t>(i)] = w[i];
    if ((s.s[0] | s.s[1] | s.s[2] | s.s[3]) == 0) fail(key, "a random generator state cannot be all zero");
    s.has_cached_normal = w[4] == 1;
    std::memcpy(&s.cached_normal, &w[5], sizeof s.cached_normal);
    return s;
  }

 private:
  const std::map<std::string, std::string>& meta_;
  std::string source_;
};

// A JSON entry of a checkpoint ("train.history", "train.partial"), read with errors naming the key;
// `where` prefixes the messages ("epoch report 2: ").
class JsonEntry {
 public:
  JsonEntry(const Fields& f, std::string key) : f_(f), key_(std::move(key)) {}
  json parse(const std::string& what) const {
    try {
      return json::parse(f_.text(key_));
    } catch (const json::exception& e) {
      f_.fail(key_, "expected " + what + ": " + e.what());
    }
  }
  void set_where(std::string where) { where_ = std::move(where); }
  std::int64_t integer(const json& o, const char* k) const {
    if (!o.is_object() || !o.contains(k) || !o.at(k).is_number_integer())
      f_.fail(key_, where_ + "expected an integer '" + k + "'");
    return o.at(k).get<std::int64_t>();
  }
  double real(const json& o, const char* k) const {
    if (!o.is_object() || !o.contains(k) || !o.at(k).is_string())
      f_.fail(key_, where_ + "expected a number text '" + k + "'");
    return f_.parse_real(key_, o.at(k).get<std::string>());
  }
  // run::metrics_json's object.
  run::Metrics metrics(const json& o) const {
    return {real(o, "loss"), real(o, "accuracy"), real(o, "mse"), integer(o, "samples")};
  }
  run::Metrics metrics(const json& o, const char* k) const {
    if (!o.contains(k)) f_.fail(key_, where_ + "no '" + k + "'");
    return metrics(o.at(k));
  }

 private:
  const Fields& f_;
  std::string key_, where_;
};

// run::history_json(..., run::kDenseEpochFields), read back.
std::vector<train::EpochReport> parse_history(const Fields& f, const std::string& key) {
  JsonEntry j(f, key);
  const json a = j.parse("a JSON array of epoch reports");
  if (!a.is_array()) f.fail(key, "expected a JSON array of epoch reports");
  std::vector<train::EpochReport> out;
  for (const auto& e : a) {
    j.set_where("epoch report " + std::to_string(out.size() + 1) + ": ");
    train::EpochReport r{};
    r.epoch = j.integer(e, "epoch");
    r.epochs = j.integer(e, "epochs");
    r.train = j.metrics(e, "train");
    r.validation = j.metrics(e, "validation");
    r.epoch_seconds = j.real(e, "epoch_seconds");
    r.seconds = j.real(e, "seconds");
    r.skipped_steps = j.integer(e, "skipped_steps");
    out.push_back(r);
  }
  return out;
}

// The streams must be exactly the model's.
void check_random_streams(const std::map<std::string, Rng::State>& saved, nn::Sequential& model,
                          const std::string& source) {
  const auto streams = model.random_streams();
  for (const auto& [name, rng] : streams)
    if (!saved.contains(name))
      throw Error("missing the random stream of this layer", {source, 0, std::string(kRngPrefix) + name});
  if (saved.size() != streams.size())
    throw Error("the file has random streams for layers this model lacks", {source, 0, std::string(kRngPrefix)});
}

}  // namespace

void put_optimizer(TensorFile& f, const optim::Optimizer& optimizer) {
  const optim::StateDict d = optimizer.state_dict();
  const std::string name(optimizer.name());
  f.metadata["optim.name"] = name;
  for (const auto& [k, t] : d.tensors) f.tensors.insert_or_assign(std::string(kOptimPrefix) + name + "." + k, t);
  for (const auto& [k, v] : d.counters) f.metadata[std::string(kCounterPrefix) + k] = std::to_string(v);
  for (const auto& [k, v] : d.metadata) f.metadata[std::string(kMetaPrefix) + k] = v;
}

bool has_optimizer(const TensorFile& file) { return file.metadata.contains("optim.name"); }

SavedOptimizer read_optimizer(const TensorFile& file, const std::string& source) {
  const Fields f(file.metadata, source);
  SavedOptimizer o;
  o.name = f.text("optim.name");
  if (o.name.empty() || o.name.find('.') != std::string::npos)
    f.fail("optim.name", "expected an optimizer name, got '" + o.name + "'");
  const std::string prefix = std::string(kOptimPrefix) + o.name + ".";
  for (const auto& [name, t] : file.tensors) {
    if (name.starts_with(prefix)) o.state.tensors.emplace(name.substr(prefix.size()), t);
    else if (name.starts_with(kOptimPrefix))
      throw Error("unexpected tensor (the optimizer is '" + o.name + "')", {source, 0, name});
  }
  for (const auto& [k, v] : file.metadata) {
    if (k.starts_with(kCounterPrefix)) o.state.counters[k.substr(kCounterPrefix.size())] = f.parse_integer(k, v);
    else if (k.starts_with(kMetaPrefix)) o.state.metadata[k.substr(kMetaPrefix.size())] = v;
  }
  return o;
}

void restore_optimizer(const optim::StateDict& state, optim::Optimizer& optimizer, const std::string& source) {
  try {
    optimizer.load_state_dict(state);
  } catch (const Error& e) {
    const std::string& field = e.context().field;
    throw Error(e.message(), {source, 0, field.empty() ? "optim" : "optim." + field});
  }
}

void put_random_streams(TensorFile& f, nn::Sequential& model) {
  for (const auto& [name, rng] : model.random_streams())
    f.metadata[std::string(kRngPrefix) + name] = rng_text(rng->state());
}

std::map<std::string, Rng::State> read_random_streams(const TensorFile& file, const std::string& source) {
  const Fields f(file.metadata, source);
  std::map<std::string, Rng::State> out;
  for (const auto& [k, v] : file.metadata)
    if (k.starts_with(kRngPrefix)) out[k.substr(kRngPrefix.size())] = f.parse_rng(k, v);
  return out;
}

void restore_random_streams(const std::map<std::string, Rng::State>& streams, nn::Sequential& model,
                            const std::string& source) {
  check_random_streams(streams, model, source);
  for (const auto& [name, rng] : model.random_streams()) rng->set_state(streams.at(name));
}

void save_checkpoint(const std::filesystem::path& path, nn::Sequential& model, const optim::Optimizer& optimizer,
                     const train::FitState& st, const std::map<std::string, std::string>& metadata) {
  TensorFile f;
  for (const auto& [k, v] : metadata) {
    if (reserved_key(k)) throw UsageError("checkpoint metadata key '" + k + "' is reserved", {path.string(), 0, k});
    f.metadata[k] = v;
  }
  const auto params = model.parameters();
  for (auto* p : params) f.tensors.emplace(p->name(), p->value());
  f.metadata["format"] = kCheckpointFormat;
  f.metadata["adakit.architecture"] = model.config().dump();
  put_random_streams(f, model);
  put_optimizer(f, optimizer);

  if (!st.best_weights.empty()) {
    if (st.best_weights.size() != params.size())
      throw UsageError("the fit state's best weights do not match the model's parameters", {path.string(), 0, "train.best"});
    for (std::size_t i = 0; i < params.size(); ++i)
      f.tensors.emplace(std::string(kBestPrefix) + params[i]->name(), st.best_weights[i]);
  }
  const auto put_int = [&](const char* k, std::int64_t v) { f.metadata[std::string("train.") + k] = std::to_string(v); };
  const auto put_real = [&](const char* k, double v) { f.metadata[std::string("train.") + k] = optim::format_double(v); };
  put_int("epoch", st.epoch);
  put_int("batch", st.batch);
  put_int("samples", st.samples);
  put_int("batches_per_epoch", st.batches_per_epoch);
  f.metadata["train.shuffle_rng"] = rng_text(st.shuffle_rng);
  put_real("loss_sum", st.loss_sum);
  put_int("correct_sum", st.correct_sum);
  put_int("seen", st.seen);
  put_int("skipped", st.skipped);
  put_real("best", st.best);
  put_int("since_best", st.since_best);
  put_int("stopped", st.stopped ? 1 : 0);
  put_int("epochs_run", st.result.epochs_run);
  put_int("best_epoch", st.result.best_epoch);
  put_int("stopped_early", st.result.stopped_early ? 1 : 0);
  put_real("seconds", st.result.seconds);
  put_int("skipped_steps", st.result.skipped_steps);
  f.metadata["train.history"] = run::history_json(st.result.history, run::kDenseEpochFields).dump();
  write_safetensors(path, f);
}

Checkpoint parse_checkpoint(const TensorFile& file, const std::string& source) {
  const Fields f(file.metadata, source);
  if (!file.metadata.contains("format"))
    f.fail("format", "not an adakit checkpoint (no 'format' entry; a model file is read by 'adakit predict')");
  if (f.text("format") != kCheckpointFormat)
    f.fail("format", "unsupported format '" + f.text("format") + "', expected '" + kCheckpointFormat + "'");
  require_f32(file, source);
  Checkpoint c;
  c.architecture = f.text("adakit.architecture");
  SavedOptimizer saved = read_optimizer(file, source);
  c.optimizer = std::move(saved.state);
  for (const auto& [name, t] : file.tensors) {
    if (name.starts_with(kOptimPrefix)) continue;  // read_optimizer took them
    if (name.starts_with(kBestPrefix)) c.best_weights.emplace(name.substr(kBestPrefix.size()), t);
    else if (name.starts_with("train."))
      throw Error("unexpected tensor (the optimizer is '" + saved.name + "')", {source, 0, name});
    else c.parameters.emplace(name, t);
  }
  c.random_streams = read_random_streams(file, source);
  for (const auto& [k, v] : file.metadata)
    if (!reserved_key(k)) c.metadata[k] = v;
  auto& st = c.state;
  st.epoch = f.integer("train.epoch");
  st.batch = f.integer("train.batch");
  st.samples = f.integer("train.samples");
  st.batches_per_epoch = f.integer("train.batches_per_epoch");
  st.shuffle_rng = f.rng("train.shuffle_rng");
  st.loss_sum = f.real("train.loss_sum");
  st.correct_sum = f.integer("train.correct_sum");
  st.seen = f.integer("train.seen");
  st.skipped = f.integer("train.skipped");
  st.best = f.real("train.best");
  st.since_best = f.integer("train.since_best");
  st.stopped = f.flag("train.stopped");
  st.result.epochs_run = f.integer("train.epochs_run");
  st.result.best_epoch = f.integer("train.best_epoch");
  st.result.stopped_early = f.flag("train.stopped_early");
  st.result.seconds = f.real("train.seconds");
  st.result.skipped_steps = f.integer("train.skipped_steps");
  st.result.history = parse_history(f, "train.history");
  // The position must be one fit() can have written.
  if (st.samples < 1 || st.batches_per_epoch < 1 || st.batches_per_epoch > st.samples)
    f.fail("train.batches_per_epoch", "expected 1 <= batches per epoch (" + std::to_string(st.batches_per_epoch) +
                                          ") <= samples (" + std::to_string(st.samples) + ")");
  if (st.epoch < 1 || st.batch < 0 || st.batch > st.batches_per_epoch)
    f.fail("train.batch", "position epoch " + std::to_string(st.epoch) + ", batch " + std::to_string(st.batch) +
                              " is outside an epoch of " + std::to_string(st.batches_per_epoch) + " batches");
  if (st.result.epochs_run != st.epoch - 1 || st.result.history.size() != static_cast<std::size_t>(st.result.epochs_run))
    f.fail("train.history", "expected " + std::to_string(st.epoch - 1) + " epoch reports before epoch " +
                                std::to_string(st.epoch) + ", found " + std::to_string(st.result.history.size()));
  if (st.seen < 0 || st.skipped < 0 || st.correct_sum < 0 || st.since_best < 0 || st.result.skipped_steps < 0 ||
      st.seen > st.samples || st.correct_sum > st.seen)
    f.fail("train.seen", "negative or inconsistent counters");
  return c;
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  return parse_checkpoint(read_safetensors(path), path.string());
}

train::FitState restore_checkpoint(const Checkpoint& c, nn::Sequential& model, optim::Optimizer& optimizer,
                                   const std::string& source) {
  const auto fail = [&](const std::string& field, const std::string& what) { throw Error(what, {source, 0, field}); };
  // Check everything first.
  json arch;
  try {
    arch = json::parse(c.architecture);
  } catch (const json::exception& e) {
    fail("adakit.architecture", std::string("expected the model's config as JSON: ") + e.what());
  }
  const json mine = model.config();
  if (arch != mine)
    fail("adakit.architecture", "the checkpoint's model differs from this one: saved " + arch.dump() + ", this run builds " +
                                    mine.dump());
  const auto params = model.parameters();
  std::set<std::string> names;
  for (auto* p : params) {
    names.insert(p->name());
    auto it = c.parameters.find(p->name());
    if (it == c.parameters.end()) fail(p->name(), "the checkpoint has no tensor for this parameter");
    if (it->second.shape() != p->shape())
      fail(p->name(), "shape " + shape_to_string(it->second.shape()) + " does not match the model's " +
                          shape_to_string(p->shape()));
    if (!c.best_weights.empty()) {
      auto b = c.best_weights.find(p->name());
      if (b == c.best_weights.end()) fail(std::string(kBestPrefix) + p->name(), "missing best weights of this parameter");
      if (b->second.shape() != p->shape())
        fail(std::string(kBestPrefix) + p->name(), "shape " + shape_to_string(b->second.shape()) +
                                                      " does not match the model's " + shape_to_string(p->shape()));
    }
  }
  for (const auto& [name, t] : c.parameters)
    if (!names.contains(name)) fail(name, "tensor matches no parameter of the model");
  for (const auto& [name, t] : c.best_weights)
    if (!names.contains(name)) fail(std::string(kBestPrefix) + name, "tensor matches no parameter of the model");
  check_random_streams(c.random_streams, model, source);
  // The optimizer checks its whole state dict before changing anything.
  restore_optimizer(c.optimizer, optimizer, source);
  // Nothing below throws.
  for (auto* p : params) p->value() = c.parameters.at(p->name());
  restore_random_streams(c.random_streams, model, source);
  train::FitState st = c.state;
  st.best_weights.clear();
  if (!c.best_weights.empty())
    for (auto* p : params) st.best_weights.push_back(c.best_weights.at(p->name()));
  return st;
}

CheckpointWriter::CheckpointWriter(std::filesystem::path path, nn::Sequential& model, const optim::Optimizer& optimizer,
                                   std::int64_t every_batches, std::map<std::string, std::string> metadata)
    : path_(std::move(path)), model_(model), optimizer_(optimizer), every_(every_batches), metadata_(std::move(metadata)) {
  if (every_ < 0) throw UsageError("checkpoint interval must be >= 0 batches", {"", 0, "checkpoint-every"});
}

bool checkpoint_due(const train::FitState& st, train::StatePoint point, std::int64_t every_batches) {
  return run::CheckpointSchedule(every_batches, st.batches_per_epoch).due(point, st.epoch, st.batch);
}

void CheckpointWriter::on_state(const train::FitState& st, train::StatePoint point) {
  if (!checkpoint_due(st, point, every_)) return;
  save_checkpoint(path_, model_, optimizer_, st, metadata_);
  ++saves_;
}

}  // namespace adakit::io

// ---- sparse linear runs ----

namespace adakit::io {

void put_linear_optimizer(TensorFile& f, std::string_view optimizer, const optim::OptionMap& options,
                          const linear::LinearOptimizerState& state) {
  const std::string prefix = std::string(kOptimPrefix) + std::string(optimizer) + ".";
  for (const auto& [k, t] : state.tensors) f.tensors.emplace(prefix + k, t);
  f.metadata["optim.name"] = std::string(optimizer);
  for (const auto& [k, v] : options) f.metadata[std::string(kMetaPrefix) + k] = v;
  f.metadata["optim.counter.optimizer.steps"] = std::to_string(state.steps);
  f.metadata["optim.counter.optimizer.touched"] = std::to_string(state.touched);
}

SavedLinearOptimizer take_linear_optimizer(TensorFile& file, const std::string& source) {
  const Fields f(file.metadata, source);
  SavedLinearOptimizer o;
  o.name = f.text("optim.name");
  if (o.name.empty() || o.name.find('.') != std::string::npos)
    f.fail("optim.name", "expected an optimizer name, got '" + o.name + "'");
  const std::string prefix = std::string(kOptimPrefix) + o.name + ".";
  for (auto it = file.tensors.begin(); it != file.tensors.end();) {
    if (!it->first.starts_with(prefix)) {
      ++it;
      continue;
    }
    o.state.tensors.emplace(it->first.substr(prefix.size()), std::move(it->second));
    it = file.tensors.erase(it);
  }
  for (const auto& [k, v] : file.metadata)
    if (k.starts_with(kMetaPrefix)) o.options.emplace(k.substr(kMetaPrefix.size()), v);
  o.state.steps = f.integer("optim.counter.optimizer.steps");
  // An older writer's file may lack the count of coordinates touched: counted from zero.
  if (file.metadata.contains("optim.counter.optimizer.touched"))
    o.state.touched = f.integer("optim.counter.optimizer.touched");
  if (o.state.steps < 0 || o.state.touched < 0) f.fail("optim.counter.optimizer.steps", "negative counter");
  return o;
}

void save_linear_checkpoint(const std::filesystem::path& path, const linear::LinearModel& model,
                            std::string_view optimizer, const optim::OptionMap& options,
                            const linear::LinearOptimizerState& state, const linear::FitState& fit, std::uint64_t seed,
                            std::int64_t batch_size, const std::map<std::string, std::string>& metadata) {
  TensorFile f;
  for (const auto& [k, v] : metadata) {
    if (reserved_key(k)) throw UsageError("checkpoint metadata key '" + k + "' is reserved", {path.string(), 0, k});
    f.metadata[k] = v;
  }
  f.tensors = model.tensors();
  put_linear_optimizer(f, optimizer, options, state);
  f.metadata["format"] = kLinearCheckpointFormat;
  f.metadata["adakit.architecture"] = model.config().dump();
  f.metadata["train.epoch"] = std::to_string(fit.epoch);
  f.metadata["train.next"] = std::to_string(fit.next);
  f.metadata["train.seed"] = std::to_string(seed);
  f.metadata["train.batch_size"] = std::to_string(batch_size);
  f.metadata["train.partial"] = json{{"loss_sum", optim::format_double(fit.partial.loss_sum)},
                                     {"correct", fit.partial.correct},
                                     {"squared_error_sum", optim::format_double(fit.partial.squared_error_sum)},
                                     {"count", fit.partial.count}}
                                    .dump();
  f.metadata["train.history"] = run::history_json(fit.history, run::kLinearEpochFields).dump();
  f.metadata["train.seconds"] = optim::format_double(fit.seconds);
  write_safetensors(path, f);
}

LinearCheckpoint read_linear_checkpoint(const std::filesystem::path& path) {
  return parse_linear_checkpoint(read_safetensors(path), path.string());
}

LinearCheckpoint parse_linear_checkpoint(TensorFile file, const std::string& source) {
  const Fields f(file.metadata, source);
  if (!file.metadata.contains("format")) f.fail("format", "not an adakit checkpoint (no 'format' entry)");
  if (f.text("format") != kLinearCheckpointFormat)
    f.fail("format", "unsupported format '" + f.text("format") + "', expected '" + kLinearCheckpointFormat +
                         "' (a sparse linear checkpoint)");
  LinearCheckpoint c;
  SavedLinearOptimizer saved = take_linear_optimizer(file, source);
  c.optimizer = std::move(saved.name);
  c.options = std::move(saved.options);
  c.state = std::move(saved.state);
  for (const auto& [name, t] : file.tensors)  // the optimizer's were taken; the model's read below
    if (name != "weight" && name != "bias")
      throw Error("unexpected tensor (the optimizer is '" + c.optimizer + "')", {source, 0, name});
  require_f32(file, source);
  json arch;
  try {
    arch = json::parse(f.text("adakit.architecture"));
  } catch (const json::exception& e) {
    f.fail("adakit.architecture", std::string("expected the model's config as JSON: ") + e.what());
  }
  try {
    c.model = linear::LinearModel::from_tensors(arch, file.tensors);  // reads "weight" and "bias"
  } catch (const Error& e) {
    f.fail(e.context().field.empty() ? "weight" : e.context().field, e.message());
  }
  for (const auto& [k, v] : file.metadata)
    if (!reserved_key(k)) c.metadata[k] = v;
  // Entries a file may lack (an older writer's): no partial sums, no history.
  const auto has = [&](const char* k) { return file.metadata.contains(k); };
  c.fit.epoch = f.integer("train.epoch");
  c.fit.next = f.integer("train.next");
  c.seed = static_cast<std::uint64_t>(f.integer("train.seed"));
  c.batch_size = f.integer("train.batch_size");
  if (c.fit.epoch < 0 || c.fit.next < 0) f.fail("train.epoch", "negative position");
  if (c.batch_size < 1) f.fail("train.batch_size", "expected a batch size >= 1, got " + std::to_string(c.batch_size));
  if (has("train.partial")) {
    const JsonEntry j(f, "train.partial");
    const json p = j.parse("the epoch's sums as a JSON object");
    c.fit.partial = {j.real(p, "loss_sum"), j.integer(p, "correct"), j.real(p, "squared_error_sum"), j.integer(p, "count")};
  }
  if (has("train.history")) {
    const JsonEntry j(f, "train.history");
    const json a = j.parse("a JSON array of epoch reports");
    if (!a.is_array()) f.fail("train.history", "expected a JSON array of epoch reports");
    for (const auto& e : a) {
      if (!e.is_object() || !e.contains("train")) f.fail("train.history", "an epoch report without 'train'");
      run::EpochReport r;
      r.epoch = j.integer(e, "epoch");
      r.epochs = j.integer(e, "epochs");
      r.train = j.metrics(e.at("train"));
      r.steps = j.integer(e, "steps");
      r.seconds = j.real(e, "seconds");
      c.fit.history.push_back(r);
    }
  }
  if (has("train.seconds")) c.fit.seconds = f.real("train.seconds");
  return c;
}

}  // namespace adakit::io
