// read_idx: MNIST-style IDX files (http://yann.lecun.com/exdb/mnist/ describes the format).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/readers.hpp"
#include "input_file.hpp"
#include "pixels.hpp"

namespace adakit::data {
namespace {

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

// Reads an IDX file of unsigned bytes with `ndims` dimensions; returns the dims and the payload.
std::vector<unsigned char> read_idx_file(const std::filesystem::path& path, std::uint32_t ndims, const char* what,
                                         std::vector<std::int64_t>& dims) {
  detail::InputFile in(path);
  const std::string& file = in.name();
  const std::uint32_t want_magic = 0x00000800u | ndims;
  std::array<unsigned char, 4> word{};
  if (in.read(word.data(), 4) != 4) throw Error("truncated: no IDX header (4-byte magic number)", {file, 0, ""});
  const std::uint32_t magic = big_endian_u32(word.data());
  if (magic != want_magic)
    throw Error("bad magic number " + hex32(magic) + ", expected " + hex32(want_magic) + " (IDX " + what + ": unsigned bytes, " +
                    std::to_string(ndims) + (ndims == 1 ? " dimension)" : " dimensions)"),
                {file, 0, ""});
  dims.assign(ndims, 0);
  std::int64_t payload = 1;
  for (std::uint32_t k = 0; k < ndims; ++k) {
    if (in.read(word.data(), 4) != 4)
      throw Error("truncated header: missing dimension " + std::to_string(k + 1) + " of " + std::to_string(ndims), {file, 0, ""});
    const std::uint32_t d = big_endian_u32(word.data());
    if (d > 0x7FFFFFFFu) throw Error("dimension " + std::to_string(k + 1) + " is too large: " + std::to_string(d), {file, 0, ""});
    if (k > 0 && d == 0) throw Error("dimension " + std::to_string(k + 1) + " is zero", {file, 0, ""});
    dims[k] = static_cast<std::int64_t>(d);
    if (__builtin_mul_overflow(payload, dims[k], &payload) || payload > (std::int64_t{1} << 40))
      throw Error("dimensions describe more than 2^40 bytes", {file, 0, ""});
  }
  // Read in chunks as the data arrives: a header that claims 10^12 bytes over a short file is a
  // "truncated" error after reading what is there, never a 10^12-byte allocation.
  const std::size_t header_bytes = 4 + 4 * std::size_t{ndims};
  const auto want = static_cast<std::size_t>(payload);
  // Chunks grow with the data read so far (64 KiB .. 16 MiB): at most about twice what is there.
  std::vector<unsigned char> data;
  while (data.size() < want) {
    const std::size_t old = data.size();
    const std::size_t n = std::min(want - old, std::clamp(old, std::size_t{1} << 16, std::size_t{1} << 24));
    data.resize(old + n);
    const std::size_t got = in.read(data.data() + old, n);
    if (got < n)
      throw Error("size mismatch: the header announces " + std::to_string(payload) + " bytes of data after its " +
                      std::to_string(header_bytes) + " bytes, the file holds " + std::to_string(old + got) +
                      " (truncated file)",
                  {file, 0, ""});
  }
  if (!in.at_end())
    throw Error("size mismatch: more data than the header's " + std::to_string(payload) + " bytes (trailing bytes from byte " +
                    std::to_string(header_bytes + want) + ")",
                {file, 0, ""});
  return data;
}

}  // namespace

Dataset read_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
  std::vector<std::int64_t> image_dims, label_dims;
  const std::vector<unsigned char> pixels = read_idx_file(images_path, 3, "images", image_dims);
  const std::vector<unsigned char> label_bytes = read_idx_file(labels_path, 1, "labels", label_dims);
  if (image_dims[0] != label_dims[0])
    throw Error("count mismatch: " + std::to_string(label_dims[0]) + " labels for " + std::to_string(image_dims[0]) +
                    " images in " + images_path.string(),
                {labels_path.string(), 0, ""});

  Dataset d;
  d.name = images_path.filename().string();
  if (d.name.ends_with(".gz")) d.name.resize(d.name.size() - 3);
  const std::int64_t n = image_dims[0];
  d.features = Tensor({n, 1, image_dims[1], image_dims[2]});
  detail::bytes_to_unit_floats(pixels, d.features.span());
  d.labels.assign(label_bytes.begin(), label_bytes.end());
  int top = -1;
  for (unsigned char b : label_bytes) top = b > top ? b : top;
  for (int c = 0; c <= top; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

}  // namespace adakit::data
