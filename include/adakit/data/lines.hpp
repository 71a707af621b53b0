// Reading a stream of example lines (stdin) in chunks of whole lines, for training in one pass with
// memory bounded by one chunk (adakit train --data -).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace adakit::data {

struct ChunkPolicy {
  std::int64_t batch_size = 1;           // a chunk holds whole batches (but the last)
  std::int64_t every = 0;                // end a chunk when the examples read so far reach a multiple of this (0: never)
  std::size_t max_bytes = std::size_t{8} << 20;  // else end it once it holds this many bytes (and whole batches)
  char comment = '\0';                   // a line starting with this (after blanks) is no example (LIBSVM: '#')
};

class LineChunks {
 public:
  // Reads `in` (not owned; e.g. stdin) from where it stands.
  explicit LineChunks(std::FILE* in, ChunkPolicy policy = {});
  // The next chunk of whole lines (the last one may lack its final newline) into `chunk`, and the line
  // number of its first line (from 1). False at the end of the stream. Error when reading fails.
  bool next(std::string& chunk, std::int64_t& first_line);
  std::int64_t examples() const noexcept { return examples_; }   // example lines handed out so far
  std::int64_t bytes() const noexcept { return bytes_; }         // bytes handed out so far

 private:
  bool fill();  // more bytes into buf_; false at the end
  std::FILE* in_;
  ChunkPolicy policy_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::int64_t line_ = 1, examples_ = 0, bytes_ = 0;
};

}  // namespace adakit::data
