// libFuzzer target: sparse linear checkpoints. The input is read as a safetensors file (checksums not
// verified, so that mutations reach the checkpoint's own parsing), parsed as a linear checkpoint, its
// optimizer made from the name and options it holds and loaded with its state, and the run resumed:
// linear::fit runs what is left of it on a tiny sparse dataset. fuzz/make_seeds.cpp writes seed
// checkpoints of this same model and data for every linear optimizer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/linear/registry.hpp"
#include "fuzz_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const adakit::data::SparseDataset train = adakit::fuzz::tiny_sparse_dataset();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = adakit::io::parse_linear_checkpoint(
        adakit::io::parse_safetensors(bytes, "fuzz", /*verify_checksums=*/false), "fuzz");
    auto model = adakit::linear::LinearModel::for_dataset(train);
    if (c.model.config() != model.config()) return 0;  // adakit train refuses another model (its check)
    auto opt = adakit::linear::make_linear_optimizer(c.optimizer, c.options);
    opt->load_state(model, c.state);
    std::copy(c.model.weights().begin(), c.model.weights().end(), model.weights().begin());
    std::copy(c.model.bias().begin(), c.model.bias().end(), model.bias().begin());
    adakit::linear::FitCheckpoints resume;
    resume.resume = &c.fit;
    adakit::linear::fit(model, *opt, train, adakit::fuzz::tiny_linear_fit_options(), {}, resume);
  } catch (const adakit::Error&) {
  }
  return 0;
}
