// libFuzzer target: data::read_cifar10_batch on arbitrary bytes (plain or gzip).
#include <cstddef>
#include <cstdint>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static adakit::fuzz::MemFile file("cifar");
  try {
    const auto d = adakit::data::read_cifar10_batch(file.write(data, size));
    (void)d.size();
  } catch (const adakit::Error&) {
  }
  return 0;
}
