// adakit::AtomicWriter: see include/adakit/core/file.hpp.
#include "adakit/core/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "adakit/core/error.hpp"

namespace adakit {
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
  if (n == 0) return;  // an empty write may come with a null pointer (an empty string_view)
  const char* p = static_cast<const char*>(data);
  if (used_ + n > buffer_.size()) {
    flush();
    // Large writes (and a writer that never buffered: write_file_atomic) go straight to the file.
    if (n >= kBuffer) {
      write_all(fd_, p, n, tmp_);
      return;
    }
    if (buffer_.empty()) buffer_.resize(kBuffer);
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

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicWriter out(path);
  out.write(bytes);
  out.commit();
}

}  // namespace adakit
