#include "adakit/io/run.hpp"

#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::io {
namespace fs = std::filesystem;

namespace {
template <class T>
std::uint64_t hash_bytes(const T* data, std::size_t n, std::uint64_t h) {
  return fnv1a64(data, n * sizeof(T), h);
}
}  // namespace

std::string data_fingerprint(const data::Dataset& d) {
  std::uint64_t h = hash_bytes(d.features.data(), static_cast<std::size_t>(d.features.numel()), kFnv1a64Offset);
  h = hash_bytes(d.labels.data(), d.labels.size(), h);
  return hex64(hash_bytes(d.targets.data(), static_cast<std::size_t>(d.targets.numel()), h));
}

std::string data_fingerprint(const data::SparseDataset& d) {
  std::uint64_t h = hash_bytes(d.features.indptr.data(), d.features.indptr.size(), kFnv1a64Offset);
  h = hash_bytes(d.features.indices.data(), d.features.indices.size(), h);
  h = hash_bytes(d.features.values.data(), d.features.values.size(), h);
  h = hash_bytes(d.labels.data(), d.labels.size(), h);
  return hex64(hash_bytes(d.targets.data(), d.targets.size(), h));
}

nlohmann::json run_identity(nlohmann::json settings, const optim::Optimizer& optimizer, const data::Dataset& train) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [k, v] : optimizer.group_options(0)) options[k] = v;
  settings["optimizer"] = std::string(optimizer.name());
  settings["options"] = options;
  settings["schedule"] = optimizer.schedule().to_string();
  settings["clip-norm"] = optim::format_double(optimizer.clip().max_norm);
  settings["clip-value"] = optim::format_double(optimizer.clip().max_value);
  settings[kFingerprintKey] = data_fingerprint(train);
  return settings;
}

nlohmann::json run_identity(nlohmann::json settings, const linear::LinearOptimizer& optimizer,
                            const data::SparseDataset& train) {
  settings["optimizer"] = std::string(optimizer.name());
  settings["options"] = optimizer.option_map();
  settings[kFingerprintKey] = data_fingerprint(train);
  return settings;
}

nlohmann::json saved_run_identity(const std::map<std::string, std::string>& metadata, const std::string& file) {
  auto it = metadata.find(kRunKey);
  if (it == metadata.end()) throw Error("not written by adakit train (no adakit.run entry)", {file, 0, kRunKey});
  nlohmann::json saved;
  try {
    saved = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("expected a JSON object: ") + e.what(), {file, 0, kRunKey});
  }
  if (!saved.is_object()) throw Error("expected a JSON object", {file, 0, kRunKey});
  return saved;
}

void check_same_run(const nlohmann::json& saved, const nlohmann::json& now, const std::string& file) {
  std::string diffs;
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (const auto& [k, v] : now.items()) {
    if (k == "options" && saved.value("optimizer", nlohmann::json()) != now.at("optimizer")) continue;  // listed above
    if (k == "options" && saved.contains(k) && saved.at(k).is_object()) {
      for (const auto& [ok, ov] : v.items()) {
        const auto& sv = saved.at(k);
        const std::string was = sv.contains(ok) ? text(sv.at(ok)) : "(none)";
        if (was != text(ov)) diffs += "\n  --" + ok + ": checkpoint " + was + ", this run " + text(ov);
      }
      continue;
    }
    const std::string was = saved.contains(k) ? text(saved.at(k)) : "(none)";
    if (was != text(v))
      diffs += "\n  " + (k.find(' ') == std::string::npos ? "--" + k : k) + ": checkpoint '" + was + "', this run '" +
               text(v) + "'";
  }
  if (!diffs.empty())
    throw UsageError("cannot resume: this run differs from the checkpoint's (only --epochs, --save, --checkpoint, "
                     "--checkpoint-every, --threads, --json and --quiet may change):" + diffs,
                     {file, 0, kRunKey});
}

fs::path checkpoint_file(const std::string& dir) { return fs::path(dir) / "checkpoint.safetensors"; }

fs::path checkpoint_to_resume(const std::string& dir) {
  const fs::path path = checkpoint_file(dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError("--resume takes the directory given to --checkpoint; '" + dir + "' is not a directory",
                     {"", 0, "resume"});
  if (!fs::exists(path, ec)) throw Error("no checkpoint to resume from (expected " + path.string() + ")", {dir, 0, "resume"});
  return path;
}

void make_checkpoint_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    throw Error("cannot create the checkpoint directory: " + ec.message(), {dir, 0, "checkpoint"});
}

}  // namespace adakit::io
