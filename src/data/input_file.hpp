// Internal to src/data: reads a file that may be plain or gzip-compressed (zlib's gzread passes plain
// files through unchanged), with errors that name the file.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace adakit::data::detail {

class InputFile {
 public:
  // Throws adakit::Error naming the file when it does not exist, is a directory, or cannot be opened.
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to n bytes; fewer only at the end of the data. Throws on a read error, a corrupt or a
  // truncated gzip stream.
  std::size_t read(void* out, std::size_t n);
  // Everything from the current position to the end.
  std::vector<unsigned char> read_rest();
  // True when no byte is left (reads one byte to find out; use only to check for trailing data).
  bool at_end();

  const std::string& name() const { return name_; }

 private:
  void* file_ = nullptr;  // gzFile
  std::string name_;
  std::size_t size_hint_ = 0;
};

// Takes the next line off the front of `text` (without its '\n', and without a trailing '\r').
inline std::string_view take_line(std::string_view& text) {
  const std::size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace adakit::data::detail
