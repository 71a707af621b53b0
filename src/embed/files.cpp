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

std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t nl = text.find('\n', pos);
  std::string_view line = text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void split_fields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t s = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > s) fields.push_back(line.substr(s, i - s));
  }
}

bool parse_whole(std::string_view field, std::int64_t& value) {
  const auto r = std::from_chars(field.data(), field.data() + field.size(), value);
  return r.ec == std::errc() && r.ptr == field.data() + field.size();
}

void WordLines::add(std::string_view word, std::int64_t number, const std::string& file) {
  const auto [it, fresh] = first_line_.emplace(std::string(word), number);
  if (!fresh)
    throw Error("duplicate word '" + std::string(word) + "' (first on line " + std::to_string(it->second) + ")",
                {file, number, "word"});
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
