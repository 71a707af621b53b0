// CIFAR-10 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version").
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "input_file.hpp"
#include "pixels.hpp"

namespace adakit::data {
namespace {

constexpr std::int64_t kPixels = 3 * 32 * 32;
constexpr std::int64_t kRecord = 1 + kPixels;

struct Batch {
  std::vector<unsigned char> bytes;
  std::int64_t count = 0;
};

Batch read_batch_bytes(const std::filesystem::path& path) {
  detail::InputFile in(path);
  Batch b;
  b.bytes = in.read_rest();
  const auto size = static_cast<std::int64_t>(b.bytes.size());
  if (size == 0) throw Error("empty file: no CIFAR-10 records", {in.name(), 0, ""});
  b.count = size / kRecord;
  if (size % kRecord != 0)
    throw Error("record " + std::to_string(b.count) + " (0-based, at byte " + std::to_string(b.count * kRecord) +
                    ") is truncated: it has " + std::to_string(size % kRecord) + " of " + std::to_string(kRecord) +
                    " bytes (1 label + 3072 pixels; a batch is a whole number of records)",
                {in.name(), 0, ""});
  for (std::int64_t r = 0; r < b.count; ++r) {
    const unsigned label = b.bytes[static_cast<std::size_t>(r * kRecord)];
    if (label > 9)
      throw Error("record " + std::to_string(r) + " (0-based): label byte " + std::to_string(label) + " at byte " +
                      std::to_string(r * kRecord) + " is not a CIFAR-10 class (0..9)",
                  {in.name(), 0, ""});
  }
  return b;
}

Dataset assemble(const std::vector<Batch>& batches, std::string name, std::vector<std::string> class_names) {
  std::int64_t n = 0;
  for (const auto& b : batches) n += b.count;
  Dataset d;
  d.name = std::move(name);
  d.class_names = std::move(class_names);
  d.features = Tensor({n, 3, 32, 32});
  d.labels.reserve(static_cast<std::size_t>(n));
  std::int64_t row = 0;
  for (const auto& b : batches) {
    for (std::int64_t r = 0; r < b.count; ++r, ++row) {
      const unsigned char* rec = b.bytes.data() + r * kRecord;
      d.labels.push_back(rec[0]);
      // The record's planes (R, G, B; 32x32 row-major each) are already [3, 32, 32].
      detail::bytes_to_unit_floats({rec + 1, static_cast<std::size_t>(kPixels)},
                                   d.features.span().subspan(static_cast<std::size_t>(row * kPixels),
                                                             static_cast<std::size_t>(kPixels)));
    }
  }
  return d;
}

std::vector<std::string> standard_names() { return {std::begin(kCifar10ClassNames), std::end(kCifar10ClassNames)}; }

std::vector<std::string> read_meta(const std::filesystem::path& dir) {
  const auto path = dir / "batches.meta.txt";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return standard_names();
  std::ifstream in(path);
  if (!in) throw Error("cannot open", {path.string(), 0, ""});
  std::vector<std::string> names;
  std::string line;
  while (names.size() < 10 && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    std::size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    if (start < line.size()) names.push_back(line.substr(start));
  }
  if (names.size() != 10)
    throw Error("expected 10 class names, one per line, found " + std::to_string(names.size()), {path.string(), 0, ""});
  return names;
}

}  // namespace

Dataset read_cifar10_batch(const std::filesystem::path& path) {
  std::vector<Batch> batches;
  batches.push_back(read_batch_bytes(path));
  std::string name = path.filename().string();
  if (name.ends_with(".bin")) name.resize(name.size() - 4);
  return assemble(batches, name, standard_names());
}

Dataset read_cifar10(const std::filesystem::path& dir, bool train) {
  std::vector<std::filesystem::path> files;
  if (train) {
    for (int k = 1; k <= 5; ++k) files.push_back(dir / ("data_batch_" + std::to_string(k) + ".bin"));
  } else {
    files.push_back(dir / "test_batch.bin");
  }
  for (const auto& f : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f, ec))
      throw MissingDataError("CIFAR-10 batch file not found. Download the binary version from "
                             "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extract it "
                             "(it unpacks to cifar-10-batches-bin/)",
                             {f.string(), 0, ""});
  }
  std::vector<std::string> names = read_meta(dir);
  std::vector<Batch> batches;
  for (const auto& f : files) batches.push_back(read_batch_bytes(f));
  return assemble(batches, train ? "cifar10-train" : "cifar10-test", std::move(names));
}

}  // namespace adakit::data
