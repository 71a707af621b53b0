// embed/'s file plumbing (internal): whole-file and buffered binary reads, float formatting; atomic
// writes come from core/file.hpp (the same writer io/ uses).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adakit/core/file.hpp"
#include "adakit/embed/vocab.hpp"

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
// Calls each(number, fields) for every line of `text`, numbered from 1, split by split_fields.
template <class Each>
void for_each_line_fields(std::string_view text, Each&& each) {
  std::vector<std::string_view> fields;
  std::int64_t number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    split_fields(next_line(text, pos), fields);
    each(++number, fields);
  }
}
// True when all of `field` is one integer (std::from_chars, nothing left over).
bool parse_whole(std::string_view field, std::int64_t& value);
// The words of a vocabulary or vectors file, each once: Error "duplicate word" naming both lines.
class WordLines {
 public:
  void add(std::string_view word, std::int64_t number, const std::string& file);

 private:
  std::unordered_map<std::string, std::int64_t, WordHash, std::equal_to<>> first_line_;
};

// The shortest decimal that reads back to the same float32.
void append_float(std::string& out, float v);

}  // namespace adakit::embed::detail
