#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "adakit/core/error.hpp"

namespace adakit::embed::detail {
namespace fs = std::filesystem;

void fail_errno(const fs::path& path, const std::string& what) {
  throw Error(what + ": " + std::strerror(errno), {path.string(), 0, ""});
}

namespace {
constexpr std::size_t kBuffer = std::size_t{1} << 20;

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

AtomicWriter::AtomicWriter(fs::path path, bool durable) : path_(std::move(path)), durable_(durable) {
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  tmp_ = dir / ("." + path_.filename().string() + ".tmp." + std::to_string(::getpid()));
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_errno(tmp_, "cannot create");
  buffer_.resize(kBuffer);
}

AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicWriter::flush() {
  write_all(fd_, buffer_.data(), used_, tmp_);
  used_ = 0;
}

void AtomicWriter::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  if (used_ + n > buffer_.size()) {
    flush();
    if (n >= buffer_.size()) {
      write_all(fd_, p, n, tmp_);
      return;
    }
  }
  std::memcpy(buffer_.data() + used_, p, n);
  used_ += n;
}

void AtomicWriter::commit() {
  flush();
  if (durable_ && ::fsync(fd_) != 0) fail_errno(tmp_, "cannot fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    ::unlink(tmp_.c_str());
    fail_errno(tmp_, "cannot close");
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp_.c_str());
    errno = saved;
    fail_errno(path_, "cannot rename the temporary file into place");
  }
  if (!durable_) return;
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

BinaryReader::BinaryReader(const fs::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail_errno(path, "cannot open");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    fail_errno(path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw Error("is a directory, not a file", {path.string(), 0, ""});
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

BinaryReader::~BinaryReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t BinaryReader::read(void* out, std::size_t n) {
  char* p = static_cast<char*>(out);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd_, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno(path_, "cannot read");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::string read_text_file(const fs::path& path) {
  BinaryReader in(path);
  std::string text(static_cast<std::size_t>(in.size()), '\0');
  text.resize(in.read(text.data(), text.size()));
  return text;
}

void append_float(std::string& out, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace adakit::embed::detail
