// libFuzzer target: io::parse_safetensors on arbitrary bytes, with and without checksum checks; a
// model read from what parses (io::model_from_tensor_file: architecture and task metadata); and the
// writer's round trip.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The writer renames a temporary file into place: a real directory (tmpfs when there is one).
  static const std::string path = [] {
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    return (dir / ("adakit_fuzz_" + std::to_string(::getpid()) + ".safetensors")).string();
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    (void)adakit::io::parse_safetensors(bytes, "fuzz");
  } catch (const adakit::Error&) {
  }
  try {
    const auto f = adakit::io::parse_safetensors(bytes, "fuzz", /*verify_checksums=*/false);
    try {
      auto m = adakit::io::model_from_tensor_file(f, "fuzz");
      (void)m.model.num_parameters();
    } catch (const adakit::Error&) {
    }
    // What reads must write (our writer) and read back with the same names and shapes.
    adakit::io::TensorFile clean = f;
    clean.metadata.erase("adakit.header_fnv1a64");
    adakit::io::write_safetensors(path, clean);
    const auto g = adakit::io::read_safetensors(path);
    if (g.tensors.size() != f.tensors.size()) std::abort();
    for (const auto& [name, t] : f.tensors)
      if (!g.tensors.contains(name) || g.tensors.at(name).shape() != t.shape()) std::abort();
  } catch (const adakit::Error&) {
  }
  return 0;
}
