#include "adakit/io/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"

namespace adakit::io {
namespace fs = std::filesystem;
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

std::uint64_t fnv1a64(const char* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
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

[[noreturn]] void fail_errno(const fs::path& path, const std::string& what) {
  throw Error(what + ": " + std::strerror(errno), {path.string(), 0, ""});
}

void write_all(int fd, const char* data, std::size_t n, const fs::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot write");
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const fs::path tmp = dir / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno(tmp, "cannot create");
  try {
    write_all(fd, bytes.data(), bytes.size(), tmp);
    if (::fsync(fd) != 0) fail_errno(tmp, "cannot fsync");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail_errno(tmp, "cannot close");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail_errno(path, "cannot rename the temporary file into place");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_safetensors(const fs::path& path, const TensorFile& file) {
  nlohmann::json header = nlohmann::json::object();
  std::string payload;
  std::size_t total = 0;
  for (const auto& [name, t] : file.tensors) total += static_cast<std::size_t>(t.numel()) * sizeof(float);
  payload.reserve(total);
  for (const auto& [name, t] : file.tensors) {
    if (name == "__metadata__") throw UsageError("a tensor cannot be named __metadata__");
    const std::size_t begin = payload.size();
    payload.append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {begin, payload.size()}}};
  }
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : file.metadata) meta[k] = v;
  meta["adakit.payload_fnv1a64"] = hex64(fnv1a64(payload.data(), payload.size()));
  header["__metadata__"] = meta;
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // align the payload to 8 bytes
  std::string bytes(8, '\0');
  const std::uint64_t n = text.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += text;
  bytes += payload;
  write_file_atomic(path, bytes);
}

TensorFile read_safetensors(const fs::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file", {where, 0, ""});
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw Error("truncated safetensors file (no header length)", {where, 0, ""});
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    throw Error("truncated or corrupted safetensors file (header length " + std::to_string(n) + " exceeds the file)",
                {where, 0, ""});
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("corrupted safetensors header: ") + e.what(), {where, 0, "header"});
  }
  if (!header.is_object()) throw Error("safetensors header is not a JSON object", {where, 0, "header"});
  const char* payload = bytes.data() + 8 + n;
  const std::size_t payload_size = bytes.size() - 8 - n;
  TensorFile out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error("__metadata__ is not an object", {where, 0, name});
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw Error("metadata value is not a string", {where, 0, k});
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      if (entry.at("dtype").get<std::string>() != "F32")
        throw Error("dtype " + entry.at("dtype").get<std::string>() + " is not supported (F32 only)", {where, 0, name});
      Shape shape = entry.at("shape").get<Shape>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > payload_size)
        throw Error("data_offsets outside the file (truncated?)", {where, 0, name});
      const std::int64_t numel = shape_numel(shape);
      if (offsets[1] - offsets[0] != static_cast<std::uint64_t>(numel) * sizeof(float))
        throw Error("data_offsets do not match the shape " + shape_to_string(shape), {where, 0, name});
      Tensor t(shape);
      if (numel > 0) std::memcpy(t.data(), payload + offsets[0], offsets[1] - offsets[0]);
      out.tensors.emplace(name, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("bad tensor entry: ") + e.what(), {where, 0, name});
    }
  }
  if (auto it = out.metadata.find("adakit.payload_fnv1a64"); it != out.metadata.end()) {
    if (it->second != hex64(fnv1a64(payload, payload_size)))
      throw Error("checksum mismatch: the file is corrupted", {where, 0, "adakit.payload_fnv1a64"});
    out.metadata.erase(it);
  }
  return out;
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
