#include "input_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "adakit/core/error.hpp"

namespace adakit::data::detail {
namespace {
gzFile handle(void* p) { return static_cast<gzFile>(p); }
}  // namespace

InputFile::InputFile(const std::filesystem::path& path) : name_(path.string()) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error("no such file", {name_, 0, ""});
  if (std::filesystem::is_directory(status)) throw Error("is a directory, not a file", {name_, 0, ""});
  if (std::filesystem::is_regular_file(status)) size_hint_ = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
  if (ec) size_hint_ = 0;
  errno = 0;
  gzFile f = gzopen(name_.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    throw Error(std::string("cannot open: ") + (err != 0 ? std::strerror(err) : "out of memory"), {name_, 0, ""});
  }
  gzbuffer(f, 1u << 17);
  file_ = f;
}

InputFile::~InputFile() {
  if (file_ != nullptr) gzclose_r(handle(file_));
}

std::size_t InputFile::read(void* out, std::size_t n) {
  auto* dst = static_cast<unsigned char*>(out);
  std::size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, std::size_t{1} << 30));
    const int got = gzread(handle(file_), dst + done, chunk);
    int code = Z_OK;
    const char* msg = gzerror(handle(file_), &code);
    if (code == Z_BUF_ERROR) throw Error("truncated gzip data (the file ends in the middle of a gzip stream)", {name_, 0, ""});
    if (got < 0 || code != Z_OK) {
      if (code == Z_ERRNO) throw Error(std::string("read error: ") + std::strerror(errno), {name_, 0, ""});
      throw Error(std::string("corrupt gzip data: ") + (msg != nullptr ? msg : "unknown zlib error"), {name_, 0, ""});
    }
    done += static_cast<std::size_t>(got);
    if (static_cast<unsigned>(got) < chunk) break;
  }
  return done;
}

std::vector<unsigned char> InputFile::read_rest() {
  std::vector<unsigned char> bytes;
  std::size_t want = std::max<std::size_t>(size_hint_ + 1, std::size_t{1} << 16);
  for (;;) {
    const std::size_t old = bytes.size();
    bytes.resize(old + want);
    const std::size_t got = read(bytes.data() + old, want);
    bytes.resize(old + got);
    if (got < want) break;
    want = std::max(want, bytes.size());  // grow geometrically (gzip data is larger than the file)
  }
  return bytes;
}

bool InputFile::at_end() {
  unsigned char b = 0;
  return read(&b, 1) == 0;
}

}  // namespace adakit::data::detail
