// libFuzzer target: sparse linear model files as `adakit predict` and `read_linear_model` read them
// (io::parse_linear_model: the binary "adakit.linear.model.v1" file with checksums not verified, so
// that mutations reach its own checks; the JSON file; a linear checkpoint; adakit export's compact file,
// "adakit.linear.compact.v1", whose deflated tables and varints are decoded here too). A file that reads is then
// used: a text model's vectorizer transforms two texts and the model predicts them; a LIBSVM model
// predicts a tiny sparse matrix. fuzz/make_seeds.cpp writes seeds of every kind, with and without a
// kept optimizer state.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "fuzz_model.hpp"

namespace {
// The library allows up to 2^33 weights (32 GiB); the fuzzer's memory limit is 2 GiB. A file that
// declares more than 2^20 features or 2^10 classes is skipped (the reader allocates what it declares).
bool too_large(const nlohmann::json& arch) {
  const auto over = [&](const char* key, std::int64_t limit) {
    return arch.is_object() && arch.contains(key) && arch[key].is_number_integer() && arch[key].get<std::int64_t>() > limit;
  };
  return over("dim", std::int64_t{1} << 20) || over("classes", std::int64_t{1} << 10);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto header = adakit::io::parse_safetensors(bytes, "fuzz", /*verify_checksums=*/false);
    const auto it = header.metadata.find("adakit.architecture");
    if (it != header.metadata.end() && too_large(nlohmann::json::parse(it->second, nullptr, false))) return 0;
  } catch (const adakit::Error&) {
    if (too_large(nlohmann::json::parse(bytes, nullptr, false))) return 0;  // a JSON model file
  }
  try {
    const auto f = adakit::io::parse_linear_model(bytes, "fuzz", /*verify_checksums=*/false);
    if (f.vectorizer) {
      const std::vector<std::string> texts{"a good film", "bad film bad"};
      if (f.vectorizer->fitted()) (void)adakit::linear::predict_proba(f.model, f.vectorizer->transform(texts));
    } else {
      auto x = adakit::fuzz::tiny_sparse_dataset().features;
      adakit::data::fit_columns(x, f.model.dim());
      (void)adakit::linear::predict_proba(f.model, x);
    }
  } catch (const adakit::Error&) {
  }
  return 0;
}
