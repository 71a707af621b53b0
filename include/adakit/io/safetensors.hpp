// safetensors files (the format of Hugging Face's safetensors: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw
// little-endian tensor bytes). Model weights are F32 (Tensor); tables that are not float32 (a vocabulary's
// bytes and offsets, double idf values, feature ids) are RawTensors of dtype F64, I64, I32 or U8.
// Python's safetensors and numpy read every one of them.
// Writes are atomic: a temporary file in the same directory, fsync, rename, fsync of the directory —
// a crash leaves either the old file or the new one, never half of one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/optimizer.hpp"

namespace adakit::io {

// The dtypes adakit reads and writes, with safetensors' names.
enum class Dtype { F32, F64, I64, I32, U8 };
std::string_view dtype_name(Dtype d) noexcept;
std::size_t dtype_size(Dtype d) noexcept;

// A tensor of another dtype than F32 (Tensor holds those): its little-endian bytes
// (numel(shape) * dtype_size(dtype)).
struct RawTensor {
  Dtype dtype = Dtype::U8;
  Shape shape;
  std::string bytes;

  std::int64_t numel() const { return shape_numel(shape); }
  // The values, copied out (memcpy: no alignment needed). UsageError on another dtype.
  template <class T>
  std::vector<T> values() const;
  // A rank-1 tensor of `v`'s values.
  template <class T>
  static RawTensor of(std::span<const T> v);
};

struct TensorFile {
  std::map<std::string, Tensor> tensors;   // F32
  std::map<std::string, RawTensor> raw;    // other dtypes; a name is in one of the two maps only
  std::map<std::string, std::string> metadata;
};

// FNV-1a 64 (Fowler, Noll, Vo) of n bytes: h = (h ^ byte) * 1099511628211 for each byte, from
// h = kFnv1a64Offset; pass a previous result as `h` to continue over several ranges. hex64: 16
// lowercase hex digits. The checksums below and the data fingerprints of io/run.hpp use them.
// kFnv1a64Offset is one digit short of FNV's offset basis (14695981039346656037): it is what adakit
// has always written, so every checksum and fingerprint in existing files keeps its value.
inline constexpr std::uint64_t kFnv1a64Offset = 1469598103934665603ULL;
std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h = kFnv1a64Offset);
std::string hex64(std::uint64_t v);

// Metadata gets two FNV-1a 64 checksums that read verifies and drops: "adakit.payload_fnv1a64" of
// the tensor bytes, "adakit.header_fnv1a64" of the JSON header as dumped without that entry (files
// from other writers carry neither, and are read without the check).
void write_safetensors(const std::filesystem::path& path, const TensorFile& file);
// The bytes write_safetensors writes (for files that are checked or measured before they are written).
std::string safetensors_bytes(const TensorFile& file);
// Error naming the file (and the tensor or field, or the byte offset) on a missing, truncated or
// corrupted file: a header length beyond the file, a header that is not a JSON object, a dtype other
// than F32, F64, I64, I32 or U8, a shape or data_offsets that are not lists of non-negative integers, offsets outside the
// payload or not matching the shape, a checksum mismatch. Allocates no more than the file's size.
TensorFile read_safetensors(const std::filesystem::path& path);
// The same over bytes in memory; `source` names them in errors. verify_checksums = false reads a
// file whose checksums do not match (for inspecting damaged files, and for the fuzzers).
TensorFile parse_safetensors(std::string_view bytes, const std::string& source, bool verify_checksums = true);

// The same checks without copying a tensor: views into `bytes` (which must outlive them). A view's
// bytes need not be aligned for its dtype (read them with memcpy, or check the address).
struct TensorView {
  Dtype dtype = Dtype::F32;
  Shape shape;
  std::string_view bytes;
};
struct SafetensorsView {
  std::map<std::string, TensorView> tensors;
  std::map<std::string, std::string> metadata;
  std::string_view payload;      // the tensor bytes
  std::string payload_checksum;  // "adakit.payload_fnv1a64", when the file has it (not in metadata)
};
// defer_payload_check: verify the header checksum only, and leave the payload's (a pass over every
// tensor byte) to check_payload, which a caller can run beside its own parsing.
SafetensorsView parse_safetensors_view(std::string_view bytes, const std::string& source, bool verify_checksums = true,
                                       bool defer_payload_check = false);
// The tensors of a view, copied out (what parse_safetensors returns).
TensorFile to_tensor_file(SafetensorsView view);
// Error naming `source` when the payload does not match its checksum (nothing when the file has none).
void check_payload(const SafetensorsView& view, const std::string& source);

namespace detail {
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, double>) return Dtype::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return Dtype::I64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return Dtype::I32;
  else {
    static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, char>, "F64, I64, I32 or U8");
    return Dtype::U8;
  }
}
}  // namespace detail

template <class T>
std::vector<T> RawTensor::values() const {
  if (dtype != detail::dtype_of<T>())
    throw UsageError("tensor of dtype " + std::string(dtype_name(dtype)) + ", read as " +
                     std::string(dtype_name(detail::dtype_of<T>())));
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

template <class T>
RawTensor RawTensor::of(std::span<const T> v) {
  RawTensor t{detail::dtype_of<T>(), {static_cast<std::int64_t>(v.size())}, {}};
  t.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return t;
}

// For the files whose tensors are all F32 (models, checkpoints, state dicts): Error naming `source`
// and the first tensor of another dtype.
void require_f32(const TensorFile& file, const std::string& source);

// Writes `bytes` to `path` atomically (see above; core/file.hpp).
using ::adakit::write_file_atomic;

// Optimizer state dicts in a safetensors file: tensors as they are, counters and metadata in
// "__metadata__" under "counter." and "meta." prefixes.
void save_state_dict(const std::filesystem::path& path, const optim::StateDict& dict);
optim::StateDict load_state_dict(const std::filesystem::path& path);

}  // namespace adakit::io
