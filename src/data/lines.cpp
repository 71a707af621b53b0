#include "adakit/data/lines.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>

#include "adakit/core/error.hpp"

namespace adakit::data {
namespace {
bool is_example(std::string_view line, char comment) {
  for (const char c : line) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return comment == '\0' || c != comment;
  }
  return false;
}
}  // namespace

LineChunks::LineChunks(std::FILE* in, ChunkPolicy policy) : in_(in), policy_(policy), buf_(std::size_t{1} << 20) {
  if (policy_.batch_size < 1) policy_.batch_size = 1;
}

bool LineChunks::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the unread bytes at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  const std::size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, in_);
  end_ += got;
  if (got == 0) {
    if (std::ferror(in_)) throw Error(std::string("cannot read the stream: ") + std::strerror(errno), {"stdin", line_, "data"});
    eof_ = true;
    return false;
  }
  return true;
}

bool LineChunks::next(std::string& chunk, std::int64_t& first_line) {
  chunk.clear();
  first_line = line_;
  std::int64_t in_chunk = 0;
  while (true) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl == nullptr) {
      if (fill()) continue;
      if (begin_ < end_) {  // the last line, without its newline
        const std::string_view line(buf_.data() + begin_, end_ - begin_);
        if (is_example(line, policy_.comment)) ++examples_;
        chunk.append(line);
        bytes_ += static_cast<std::int64_t>(line.size());
        ++line_;
        begin_ = end_;
      }
      return !chunk.empty();
    }
    const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1;
    const std::string_view line(start, len);
    begin_ += len;
    bytes_ += static_cast<std::int64_t>(len);
    ++line_;
    chunk.append(line);
    if (!is_example(line, policy_.comment)) continue;
    ++examples_;
    ++in_chunk;
    if (in_chunk % policy_.batch_size != 0) continue;
    if ((policy_.every > 0 && examples_ % policy_.every == 0) || chunk.size() >= policy_.max_bytes) return true;
  }
}

}  // namespace adakit::data
