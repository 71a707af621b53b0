// libFuzzer target: data::parse_csv on arbitrary text with three option sets; input that starts as a
// gzip stream goes through data::read_csv (zlib's reader over a file) instead.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static adakit::fuzz::MemFile file("csv");
  adakit::data::CsvOptions options[3];
  options[1].label_column = "0";
  options[1].header = adakit::data::CsvOptions::Header::no;
  options[2].delimiter = ';';
  options[2].task = adakit::data::CsvOptions::Task::regression;
  options[2].label_column = "label";
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  for (const auto& o : options) {
    try {
      const auto d = gzip ? adakit::data::read_csv(file.write(data, size), o)
                          : adakit::data::parse_csv(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", o);
      (void)d.size();
    } catch (const adakit::Error&) {
    }
  }
  return 0;
}
