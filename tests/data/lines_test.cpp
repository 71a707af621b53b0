// LineChunks: whole lines, whole batches, chunks ending where the examples reach a multiple of `every`.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "adakit/data/lines.hpp"

namespace {
using namespace adakit::data;

std::FILE* stream_of(const std::string& s) {
  std::FILE* f = std::tmpfile();
  std::fwrite(s.data(), 1, s.size(), f);
  std::rewind(f);
  return f;
}

TEST(LineChunks, CutsAtMultiplesOfEveryAndKeepsWholeBatches) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "1 " + std::to_string(i + 1) + ":1\n";
  text.insert(text.find("1 4:1"), "# a comment\n\n");
  std::FILE* f = stream_of(text + "1 99:1");  // the last line without its newline
  LineChunks chunks(f, {.batch_size = 2, .every = 4, .comment = '#'});
  std::string chunk;
  std::int64_t first = 0;
  std::vector<std::pair<std::int64_t, std::string>> got;
  while (chunks.next(chunk, first)) got.emplace_back(first, chunk);
  std::fclose(f);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, 1);
  EXPECT_EQ(got[0].second, "1 1:1\n1 2:1\n1 3:1\n# a comment\n\n1 4:1\n");  // 4 examples; comments are not
  EXPECT_EQ(got[1].first, 7);
  EXPECT_EQ(got[2].second, "1 9:1\n1 10:1\n1 99:1");
  EXPECT_EQ(chunks.examples(), 11);
}

TEST(LineChunks, ByteCapEndsChunksOnlyAfterWholeBatches) {
  std::string text;
  for (int i = 0; i < 9; ++i) text += std::string(10, 'a') + "\n";
  std::FILE* f = stream_of(text);
  LineChunks chunks(f, {.batch_size = 3, .every = 0, .max_bytes = 15});
  std::string chunk;
  std::int64_t first = 0;
  int n = 0;
  while (chunks.next(chunk, first)) {
    EXPECT_EQ(chunk.size(), 33u);  // 3 lines: the cap is passed at the 2nd, the batch ends at the 3rd
    ++n;
  }
  std::fclose(f);
  EXPECT_EQ(n, 3);
}

TEST(LineChunks, AnEmptyStreamHasNoChunk) {
  std::FILE* f = stream_of("");
  LineChunks chunks(f);
  std::string chunk;
  std::int64_t first = 0;
  EXPECT_FALSE(chunks.next(chunk, first));
  std::fclose(f);
}

}  // namespace
