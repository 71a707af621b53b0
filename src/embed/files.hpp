// embed/'s file plumbing (internal): a streaming atomic writer and whole-file reads. embed/ sits below
// io/ in the floors, so it keeps its own small writer with io's guarantees: a temporary file in the
// same directory, fsync, rename, fsync of the directory; never a half-written file in place.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace adakit::embed::detail {

class AtomicWriter {
 public:
  // durable = false skips the fsyncs (temporary files that nobody reads after a crash).
  explicit AtomicWriter(std::filesystem::path path, bool durable = true);
  ~AtomicWriter();  // removes the temporary file unless commit() ran
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  void commit();  // flush, fsync, rename into place

 private:
  void flush();
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  bool durable_ = true;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
};

// Sequential binary reads with a large buffer; throws Error naming the file on I/O errors.
class BinaryReader {
 public:
  explicit BinaryReader(const std::filesystem::path& path);
  ~BinaryReader();
  BinaryReader(const BinaryReader&) = delete;
  BinaryReader& operator=(const BinaryReader&) = delete;
  std::uint64_t size() const { return size_; }
  // Reads up to n bytes; returns the number read (less only at the end of the file).
  std::size_t read(void* out, std::size_t n);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

std::string read_text_file(const std::filesystem::path& path);
[[noreturn]] void fail_errno(const std::filesystem::path& path, const std::string& what);

// The shortest decimal that reads back to the same float32.
void append_float(std::string& out, float v);

}  // namespace adakit::embed::detail
