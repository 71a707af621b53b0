// libFuzzer target: data::read_idx. The input is split in two files: the first 2 bytes (little-endian)
// give the length of the images file, the rest after it is the labels file.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static adakit::fuzz::MemFile images("idx-images"), labels("idx-labels");
  if (size < 2) return 0;
  const std::size_t split = std::min<std::size_t>(size - 2, data[0] | (std::size_t{data[1]} << 8));
  images.write(data + 2, split);
  labels.write(data + 2 + split, size - 2 - split);
  try {
    const auto d = adakit::data::read_idx(images.path(), labels.path());
    (void)d.size();
  } catch (const adakit::Error&) {
  }
  return 0;
}
