// embed/'s file plumbing (internal): whole-file and buffered binary reads, float formatting; atomic
// writes come from core/file.hpp (the same writer io/ uses).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/file.hpp"

namespace adakit::embed::detail {

using ::adakit::AtomicWriter;  // core/file.hpp
using ::adakit::fail_errno;

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

// Text files line by line: the line that starts at `pos` (without its '\n' or a trailing '\r'), and
// `pos` moved past it. Call while pos < text.size().
std::string_view next_line(std::string_view text, std::size_t& pos);
// The fields of a line separated by runs of spaces and tabs (GloVe's vocab and vector files).
void split_fields(std::string_view line, std::vector<std::string_view>& fields);

// The shortest decimal that reads back to the same float32.
void append_float(std::string& out, float v);

}  // namespace adakit::embed::detail
