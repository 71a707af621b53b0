// adakit::AtomicWriter: see include/adakit/core/file.hpp.
#include "adakit/core/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "adakit/core/error.hpp"

namespace adakit {
namespace fs = std::filesystem;

void fail_errno(const fs::path& path, const std::string& what) {
  throw Error(what + ": " + std::strerror(errno), {path.string(), 0, ""});
}

std::string read_file_bytes(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno(path, "cannot open file");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail_errno(path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error("is a directory, expected a file", {path.string(), 0, ""});
  }
  std::string bytes;
  // A regular file's size is known (read that much); anything else (a pipe) is read until its end.
  const bool regular = S_ISREG(st.st_mode);
  bytes.resize(regular ? static_cast<std::size_t>(st.st_size) : std::size_t{1} << 16);
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (regular) break;
      bytes.resize(bytes.size() * 2);
    }
    const ssize_t r = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      errno = e;
      fail_errno(path, "read error");
    }
    if (r == 0) break;
    used += static_cast<std::size_t>(r);
  }
  ::close(fd);
  bytes.resize(used);
  return bytes;
}

MappedFile::MappedFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno(path, "cannot open file");
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p != MAP_FAILED) {
      map_ = p;
      size_ = static_cast<std::size_t>(st.st_size);
      ::close(fd);
      return;
    }
  }
  ::close(fd);
  copy_ = read_file_bytes(path);
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, size_);
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
