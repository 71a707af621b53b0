// Atomic file writes, used by every floor that writes files (data's LIBSVM writer, embed's vector and
// co-occurrence files, io's safetensors and model files, report's plots and pages): the bytes go to a
// temporary file in the same directory, which is fsynced and renamed into place, then the directory is
// fsynced. A crash or an error leaves the old file (or none), never a half-written one.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace adakit {

// Streaming writer: buffered writes to the temporary file, commit() puts it in place. Destroyed
// without commit() (an exception on the way), it removes the temporary file.
class AtomicWriter {
 public:
  // durable = false skips the fsyncs (temporary files that nobody reads after a crash).
  explicit AtomicWriter(std::filesystem::path path, bool durable = true);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  void commit();  // flush, fsync, rename into place, fsync the directory

 private:
  void flush();
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  bool durable_ = true;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
};

// Writes `bytes` to `path` atomically, durably.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// The whole file, read in one pass (its size first, then read(2) into one buffer). Error naming the
// file when it cannot be opened or read, or is a directory.
std::string read_file_bytes(const std::filesystem::path& path);

// A file's bytes, mapped read-only (mmap, pages read ahead), or read into memory where it cannot be
// mapped (a pipe, an empty file). Error naming the file when it cannot be opened or read.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const noexcept { return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(copy_); }

 private:
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string copy_;
};

// Throws Error("<what>: <strerror(errno)>") naming the file.
[[noreturn]] void fail_errno(const std::filesystem::path& path, const std::string& what);

}  // namespace adakit
