// safetensors files (the format of Hugging Face's safetensors: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw
// little-endian tensor bytes). adakit writes F32 tensors; Python's safetensors and numpy read them.
// Writes are atomic: a temporary file in the same directory, fsync, rename, fsync of the directory —
// a crash leaves either the old file or the new one, never half of one.
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "adakit/core/tensor.hpp"
#include "adakit/optim/optimizer.hpp"

namespace adakit::io {

struct TensorFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Metadata gets "adakit.payload_fnv1a64", a checksum of the tensor bytes that read verifies.
void write_safetensors(const std::filesystem::path& path, const TensorFile& file);
// Error naming the file (and the tensor or field) on a missing, truncated or corrupted file.
TensorFile read_safetensors(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically (see above).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Optimizer state dicts in a safetensors file: tensors as they are, counters and metadata in
// "__metadata__" under "counter." and "meta." prefixes.
void save_state_dict(const std::filesystem::path& path, const optim::StateDict& dict);
optim::StateDict load_state_dict(const std::filesystem::path& path);

}  // namespace adakit::io
