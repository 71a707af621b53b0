#include "adakit/io/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"

namespace adakit::io {
namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h) {
  const auto* b = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 1099511628211ULL;
  }
  return h;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  for (int i = 15; i >= 0; --i) {
    buf[i] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  }
  buf[16] = '\0';
  return buf;
}

std::string_view dtype_name(Dtype d) noexcept {
  switch (d) {
    case Dtype::F32: return "F32";
    case Dtype::F64: return "F64";
    case Dtype::I64: return "I64";
    case Dtype::I32: return "I32";
    case Dtype::U8: return "U8";
  }
  return "?";
}

std::size_t dtype_size(Dtype d) noexcept {
  switch (d) {
    case Dtype::F64:
    case Dtype::I64: return 8;
    case Dtype::F32:
    case Dtype::I32: return 4;
    case Dtype::U8: return 1;
  }
  return 1;
}

namespace {
constexpr const char* kPayloadChecksum = "adakit.payload_fnv1a64";
constexpr const char* kHeaderChecksum = "adakit.header_fnv1a64";
}  // namespace

std::string safetensors_bytes(const TensorFile& file) {
  nlohmann::json header = nlohmann::json::object();
  std::string payload;
  std::size_t total = 0;
  for (const auto& [name, t] : file.tensors) total += static_cast<std::size_t>(t.numel()) * sizeof(float);
  for (const auto& [name, t] : file.raw) total += t.bytes.size() + 8;
  payload.reserve(total);
  for (const auto& [name, t] : file.tensors) {
    if (name == "__metadata__") throw UsageError("a tensor cannot be named __metadata__");
    const std::size_t begin = payload.size();
    payload.append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {begin, payload.size()}}};
  }
  // Other dtypes after the F32 tensors (so files without them are laid out as before), each at an
  // offset that is a multiple of its element size.
  for (const auto& [name, t] : file.raw) {
    if (name == "__metadata__" || file.tensors.contains(name))
      throw UsageError("tensor name '" + name + "' is reserved or used twice");
    if (t.numel() < 0 || t.bytes.size() != static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype))
      throw UsageError("tensor '" + name + "': " + std::to_string(t.bytes.size()) + " bytes for the shape " +
                       shape_to_string(t.shape));
    while (payload.size() % dtype_size(t.dtype) != 0) payload.push_back('\0');
    const std::size_t begin = payload.size();
    payload += t.bytes;
    header[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {begin, payload.size()}}};
  }
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : file.metadata) meta[k] = v;
  meta[kPayloadChecksum] = hex64(fnv1a64(payload.data(), payload.size()));
  header["__metadata__"] = meta;
  // The header checksum covers the header as dumped without it (tensor entries and metadata).
  const std::string unsigned_text = header.dump();
  header["__metadata__"][kHeaderChecksum] = hex64(fnv1a64(unsigned_text.data(), unsigned_text.size()));
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // align the payload to 8 bytes
  std::string bytes(8, '\0');
  const std::uint64_t n = text.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += text;
  bytes += payload;
  return bytes;
}

void write_safetensors(const fs::path& path, const TensorFile& file) { write_file_atomic(path, safetensors_bytes(file)); }

namespace {

// A JSON array of unsigned integers (shape, data_offsets); Error naming the tensor otherwise.
std::vector<std::uint64_t> unsigned_list(const nlohmann::json& j, const char* what, const std::string& where,
                                         const std::string& name) {
  if (!j.is_array()) throw Error(std::string(what) + " is not an array", {where, 0, name});
  std::vector<std::uint64_t> v;
  for (const auto& x : j) {
    if (!x.is_number_unsigned())
      throw Error(std::string(what) + " holds " + x.dump() + ", expected non-negative integers", {where, 0, name});
    v.push_back(x.get<std::uint64_t>());
  }
  return v;
}

}  // namespace

void check_payload(const SafetensorsView& view, const std::string& where) {
  if (!view.payload_checksum.empty() && view.payload_checksum != hex64(fnv1a64(view.payload.data(), view.payload.size())))
    throw Error("checksum mismatch: the tensor data is corrupted", {where, 0, kPayloadChecksum});
}

SafetensorsView parse_safetensors_view(std::string_view bytes, const std::string& where, bool verify_checksums,
                                       bool defer_payload_check) {
  if (bytes.size() < 8)
    throw Error("truncated safetensors file: " + std::to_string(bytes.size()) +
                    " bytes, expected at least the 8-byte header length",
                {where, 0, ""});
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    throw Error("truncated or corrupted safetensors file: the header length at byte 0 says " + std::to_string(n) +
                    " bytes, the file has " + std::to_string(bytes.size() - 8) + " after it",
                {where, 0, ""});
  const std::string_view header_text = bytes.substr(8, static_cast<std::size_t>(n));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("corrupted safetensors header (JSON at bytes 8..") + std::to_string(8 + n) + "): " + e.what(),
                {where, 0, "header"});
  }
  if (!header.is_object()) throw Error("safetensors header is not a JSON object", {where, 0, "header"});
  const std::string_view payload = bytes.substr(8 + static_cast<std::size_t>(n));
  SafetensorsView out;
  std::string header_sum;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error("__metadata__ is not an object", {where, 0, name});
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw Error("metadata value is " + v.dump() + ", expected a string", {where, 0, k});
        if (k == kHeaderChecksum) header_sum = v.get<std::string>();
        else out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) throw Error("tensor entry is not an object", {where, 0, name});
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) throw Error(std::string("tensor entry has no ") + key, {where, 0, name});
    const std::string dtype = entry.at("dtype").is_string() ? entry.at("dtype").get<std::string>() : "";
    TensorView t;
    bool known = false;
    for (Dtype d : {Dtype::F32, Dtype::F64, Dtype::I64, Dtype::I32, Dtype::U8})
      if (dtype == dtype_name(d)) t.dtype = d, known = true;
    if (!known)
      throw Error("dtype " + entry.at("dtype").dump() + " is not supported (F32, F64, I64, I32, U8)", {where, 0, name});
    const std::size_t width = dtype_size(t.dtype);
    std::uint64_t numel = 1;
    for (std::uint64_t d : unsigned_list(entry.at("shape"), "shape", where, name)) {
      if (d > static_cast<std::uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, d, &numel))
        throw Error("shape " + entry.at("shape").dump() + " has more elements than any file holds", {where, 0, name});
      t.shape.push_back(static_cast<std::int64_t>(d));
    }
    const auto offsets = unsigned_list(entry.at("data_offsets"), "data_offsets", where, name);
    if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > payload.size())
      throw Error("data_offsets " + entry.at("data_offsets").dump() + " lie outside the " +
                      std::to_string(payload.size()) + "-byte payload (truncated file?)",
                  {where, 0, name});
    if (numel > payload.size() / width || offsets[1] - offsets[0] != numel * width)
      throw Error("data_offsets " + entry.at("data_offsets").dump() + " do not match the shape " +
                      shape_to_string(t.shape) + " (" + std::to_string(numel) + " " + dtype + " values)",
                  {where, 0, name});
    t.bytes = payload.substr(offsets[0], offsets[1] - offsets[0]);
    out.tensors.emplace(name, std::move(t));
  }
  out.payload = payload;
  if (auto it = out.metadata.find(kPayloadChecksum); it != out.metadata.end()) {
    out.payload_checksum = it->second;
    out.metadata.erase(it);
  }
  if (!header_sum.empty() && verify_checksums) {
    header["__metadata__"].erase(kHeaderChecksum);
    const std::string text = header.dump();
    if (header_sum != hex64(fnv1a64(text.data(), text.size())))
      throw Error("checksum mismatch: the header (tensor entries or metadata) is corrupted", {where, 0, kHeaderChecksum});
  }
  if (verify_checksums && !defer_payload_check) check_payload(out, where);
  if (!verify_checksums) out.payload_checksum.clear();
  return out;
}

TensorFile parse_safetensors(std::string_view bytes, const std::string& where, bool verify_checksums) {
  return to_tensor_file(parse_safetensors_view(bytes, where, verify_checksums));
}

TensorFile to_tensor_file(SafetensorsView view) {
  TensorFile out;
  out.metadata = std::move(view.metadata);
  for (auto& [name, t] : view.tensors) {
    if (t.dtype != Dtype::F32) {
      out.raw.emplace(name, RawTensor{t.dtype, t.shape, std::string(t.bytes)});
      continue;
    }
    Tensor x(t.shape);
    if (!t.bytes.empty()) std::memcpy(x.data(), t.bytes.data(), t.bytes.size());
    out.tensors.emplace(name, std::move(x));
  }
  return out;
}

void require_f32(const TensorFile& file, const std::string& source) {
  if (file.raw.empty()) return;
  const auto& [name, t] = *file.raw.begin();
  throw Error("dtype \"" + std::string(dtype_name(t.dtype)) + "\" is not supported here (F32 only)", {source, 0, name});
}

TensorFile read_safetensors(const fs::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("is a directory, expected a safetensors file", {where, 0, ""});
  return parse_safetensors(read_file_bytes(path), where);
}

void save_state_dict(const fs::path& path, const optim::StateDict& dict) {
  TensorFile f;
  f.tensors = dict.tensors;
  for (const auto& [k, v] : dict.counters) f.metadata["counter." + k] = std::to_string(v);
  for (const auto& [k, v] : dict.metadata) f.metadata["meta." + k] = v;
  write_safetensors(path, f);
}

optim::StateDict load_state_dict(const fs::path& path) {
  TensorFile f = read_safetensors(path);
  require_f32(f, path.string());
  optim::StateDict d;
  d.tensors = std::move(f.tensors);
  for (const auto& [k, v] : f.metadata) {
    if (k.starts_with("counter.")) {
      try {
        std::size_t used = 0;
        const long long c = std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        d.counters[k.substr(8)] = c;
      } catch (const std::exception&) {
        throw Error("counter '" + v + "' is not an integer", {path.string(), 0, k});
      }
    } else if (k.starts_with("meta.")) {
      d.metadata[k.substr(5)] = v;
    }
  }
  return d;
}

}  // namespace adakit::io
