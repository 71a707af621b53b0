// safetensors files (the format of Hugging Face's safetensors: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw
// little-endian tensor bytes). adakit writes F32 tensors; Python's safetensors and numpy read them.
// Writes are atomic: a temporary file in the same directory, fsync, rename, fsync of the directory —
// a crash leaves either the old file or the new one, never half of one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "adakit/core/file.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/optimizer.hpp"

namespace adakit::io {

struct TensorFile {
  std::map<std::string, Tensor> tensors;
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
// Error naming the file (and the tensor or field, or the byte offset) on a missing, truncated or
// corrupted file: a header length beyond the file, a header that is not a JSON object, a dtype other
// than F32, a shape or data_offsets that are not lists of non-negative integers, offsets outside the
// payload or not matching the shape, a checksum mismatch. Allocates no more than the file's size.
TensorFile read_safetensors(const std::filesystem::path& path);
// The same over bytes in memory; `source` names them in errors. verify_checksums = false reads a
// file whose checksums do not match (for inspecting damaged files, and for the fuzzers).
TensorFile parse_safetensors(std::string_view bytes, const std::string& source, bool verify_checksums = true);

// Writes `bytes` to `path` atomically (see above; core/file.hpp).
using ::adakit::write_file_atomic;

// Optimizer state dicts in a safetensors file: tensors as they are, counters and metadata in
// "__metadata__" under "counter." and "meta." prefixes.
void save_state_dict(const std::filesystem::path& path, const optim::StateDict& dict);
optim::StateDict load_state_dict(const std::filesystem::path& path);

}  // namespace adakit::io
