// libFuzzer target: the JSON documents adakit reads back as models: a Sequential's architecture
// (nn::Sequential::from_config, as in model files and checkpoints), a linear model file
// (linear::LinearModel::from_json) and its text vectorizer (data::TextVectorizer::from_json).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/nn/sequential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON: nlohmann's parser is not ours to fuzz; the readers wrap its errors
  }
  try {
    // A budget as model files give: the file's parameter count (here 2^16).
    auto m = adakit::nn::Sequential::from_config(j, std::int64_t{1} << 16);
    auto again = adakit::nn::Sequential::from_config(m.config());
    if (again.config() != m.config()) std::abort();
  } catch (const adakit::Error&) {
  }
  try {
    // The library allows up to 2^31 weights (8 GiB); the fuzzer's memory limit is 2 GiB.
    if (j.is_object() && j.contains("dim") && j["dim"].is_number_integer() && j["dim"].get<std::int64_t>() > (1 << 20))
      return 0;
    if (j.is_object() && j.contains("classes") && j["classes"].is_number_integer() &&
        j["classes"].get<std::int64_t>() > (1 << 10))
      return 0;
    auto lm = adakit::linear::LinearModel::from_json(j);
    (void)lm.to_json();
  } catch (const adakit::Error&) {
  }
  try {
    auto v = adakit::data::TextVectorizer::from_json(j);
    const std::vector<std::string> texts{"a good film", "bad film bad"};
    if (v.fitted()) (void)v.transform(texts);
  } catch (const adakit::Error&) {
  }
  return 0;
}
