// libFuzzer target: checkpoints. The input is read as a safetensors file (checksums not verified, so
// that mutations reach the checkpoint's own parsing), parsed as a checkpoint, restored into a small
// model and the optimizer it names, and resumed: train::fit runs what is left of the saved epoch.
// fuzz/make_seeds.cpp writes seed checkpoints of this same model and data.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/registry.hpp"
#include "fuzz_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const adakit::data::Dataset train = adakit::fuzz::tiny_dataset();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto file = adakit::io::parse_safetensors(bytes, "fuzz", /*verify_checksums=*/false);
    const auto c = adakit::io::parse_checkpoint(file, "fuzz");
    auto model = adakit::fuzz::tiny_model();
    const auto name = c.optimizer.metadata.find("optimizer");
    auto opt = adakit::optim::make_optimizer(name == c.optimizer.metadata.end() ? "adagrad" : name->second,
                                             model.parameters());
    const auto state = adakit::io::restore_checkpoint(c, model, *opt, "fuzz");
    auto fo = adakit::fuzz::tiny_fit_options();
    fo.epochs = std::min<std::int64_t>(state.epoch, fo.epochs);  // at most the rest of the saved epoch
    adakit::train::fit(model, *opt, train, nullptr, adakit::train::Objective::softmax_ce, fo, {}, &state);
  } catch (const adakit::Error&) {
  }
  return 0;
}
