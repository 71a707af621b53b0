// Vector files (text with each model and the header, the binary layout) round trip, their errors name
// the file and line, and nearest neighbours / analogies on hand-made vectors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/embed/vectors.hpp"

namespace {
namespace fs = std::filesystem;
using namespace adakit::embed;
using adakit::test::contains;
using adakit::test::TempDir;

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const adakit::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Fixture {
  Vocabulary vocab{{"the", "cat", "sat"}, {5, 3, 2}};
  GloveModel model;
  Fixture() {
    GloveOptions o;
    o.vector_size = 3;
    o.seed = 4;
    model = init_glove(3, o);
    for (std::size_t i = 0; i < model.params.size(); ++i) model.params[i] += 0.01 * static_cast<double>(i);
  }
};

TEST(EmbedVectors, TextFilesHoldTheModelsAndReadBack) {
  TempDir dir("adakit_embed_test_");
  Fixture f;
  for (auto which : {VectorsModel::all, VectorsModel::word, VectorsModel::sum}) {
    for (bool header : {false, true}) {
      SCOPED_TRACE(std::string(to_string(which)) + (header ? " header" : ""));
      const auto p = dir / "v.txt";
      write_vectors_text(p, f.vocab, f.model, {.model = which, .header = header, .unk_vector = true});
      const auto back = read_vectors_text(p);
      ASSERT_EQ(back.size(), 4);  // three words and <unk>
      EXPECT_EQ(back.words()[3], "<unk>");
      const auto want = word_vectors(f.model, f.vocab, which);
      ASSERT_EQ(back.dim(), which == VectorsModel::all ? 8 : 3);
      for (std::int64_t i = 0; i < 3; ++i)
        for (std::int64_t k = 0; k < back.dim(); ++k)
          EXPECT_EQ(back.row(i)[static_cast<std::size_t>(k)], want.row(i)[static_cast<std::size_t>(k)]);  // exact float32
      // <unk>: the mean of the last min(100, V) = 3 rows.
      const auto& P = f.model.params;
      const double unk0 = which == VectorsModel::sum ? (P[0] + P[4] + P[8] + P[12] + P[16] + P[20]) / 3.0
                                                     : (P[0] + P[4] + P[8]) / 3.0;
      EXPECT_NEAR(back.row(3)[0], unk0, 1e-6);
    }
  }
  write_vectors_text(dir / "h.txt", f.vocab, f.model, {.header = true, .unk_vector = false});
  std::ifstream in(dir / "h.txt");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "3 3");
  EXPECT_EQ(read_vectors_text(dir / "h.txt").size(), 3);
}

TEST(EmbedVectors, BinaryFilesAreTheParametersInVocabularyOrder) {
  TempDir dir("adakit_embed_test_");
  Fixture f;
  write_vectors_binary(dir / "v.bin", f.model);
  EXPECT_EQ(fs::file_size(dir / "v.bin"), 2u * 3 * 4 * 8);
  const auto back = read_vectors_binary(dir / "v.bin", 3);
  EXPECT_EQ(back.dim, 3);
  EXPECT_EQ(back.params, f.model.params);
  std::ifstream in(dir / "v.bin", std::ios::binary);
  double first_bias = 0;
  in.seekg(3 * 8);
  in.read(reinterpret_cast<char*>(&first_bias), 8);
  EXPECT_EQ(first_bias, f.model.word_row(0)[3]);  // [w_0 (3 values), b_0], then word 1

  write_vocabulary(dir / "vocab.txt", f.vocab);
  const auto wv = read_vectors_binary_words(dir / "v.bin", dir / "vocab.txt", VectorsModel::sum);
  EXPECT_EQ(wv.words(), f.vocab.words());
  EXPECT_FLOAT_EQ(wv.row(1)[2], static_cast<float>(f.model.word_row(1)[2] + f.model.context_row(1)[2]));

  const auto msg = error_of([&] { read_vectors_binary(dir / "v.bin", 5); });
  EXPECT_TRUE(contains(msg, "v.bin")) << msg;
  EXPECT_TRUE(contains(msg, "192 bytes")) << msg;
}

TEST(EmbedVectors, TextErrorsNameTheFileLineAndField) {
  TempDir dir("adakit_embed_test_");
  write_file(dir / "dim.txt", "a 1 2 3\nb 4 5 6\nc 7 8\n");
  auto msg = error_of([&] { read_vectors_text(dir / "dim.txt"); });
  EXPECT_TRUE(contains(msg, "dim.txt:3")) << msg;
  EXPECT_TRUE(contains(msg, "dimension mismatch: found 2 values, expected 3 (as on line 1)")) << msg;
  write_file(dir / "num.txt", "a 1 2\nb 4 x\n");
  msg = error_of([&] { read_vectors_text(dir / "num.txt"); });
  EXPECT_TRUE(contains(msg, "num.txt:2: field 'value 2'")) << msg;
  write_file(dir / "hdr.txt", "3 2\na 1 2\nb 3 4\n");
  msg = error_of([&] { read_vectors_text(dir / "hdr.txt"); });
  EXPECT_TRUE(contains(msg, "announces 3 words")) << msg;
  write_file(dir / "hdim.txt", "2 3\na 1 2\nb 3 4\n");
  msg = error_of([&] { read_vectors_text(dir / "hdim.txt"); });
  EXPECT_TRUE(contains(msg, "hdim.txt:2")) << msg;
  EXPECT_TRUE(contains(msg, "from the header")) << msg;
  write_file(dir / "dup.txt", "a 1\nb 2\na 3\n");
  EXPECT_TRUE(contains(error_of([&] { read_vectors_text(dir / "dup.txt"); }), "first on line 1"));
}

// Hand-made vectors: gender along axis 1, royalty along axis 2.
WordVectors hand_made() {
  return WordVectors({"man", "woman", "king", "queen", "apple"}, 3,
                     {1, 0, 0,  //
                      1, 1, 0,  //
                      1, 0, 1,  //
                      1, 1, 1,  //
                      0, 0, -1});
}

TEST(EmbedVectors, NearestNeighboursByCosine) {
  const auto v = hand_made();
  const auto n = nearest(v, "king", 4);
  ASSERT_EQ(n.size(), 4u);
  // cos(king, man) = cos(king, queen) = 1/sqrt(2)·... : king = (1,0,1)/√2; man (1,0,0): 1/√2;
  // queen (1,1,1)/√3: 2/√6; woman (1,1,0)/√2: 1/2; apple (0,0,-1): -1/√2.
  EXPECT_EQ(n[0].word, "queen");
  EXPECT_NEAR(n[0].similarity, 2.0 / std::sqrt(6.0), 1e-7);
  EXPECT_EQ(n[1].word, "man");
  EXPECT_NEAR(n[1].similarity, 1.0 / std::sqrt(2.0), 1e-7);
  EXPECT_EQ(n[2].word, "woman");
  EXPECT_NEAR(n[2].similarity, 0.5, 1e-7);
  EXPECT_EQ(n[3].word, "apple");
  EXPECT_NEAR(n[3].similarity, -1.0 / std::sqrt(2.0), 1e-7);
  EXPECT_EQ(nearest(v, "king", 99).size(), 4u);
  EXPECT_THROW(nearest(v, "prince", 3), adakit::UsageError);
}

TEST(EmbedVectors, AnalogiesLeaveTheQueryWordsOut) {
  const auto v = hand_made();
  const auto a = analogy(v, "man", "woman", "king", 2);  // man : woman :: king : ?
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].word, "queen");
  // q = woman/√2 − man + king/√2 = (√2 − 1, 1/√2, 1/√2); cos with queen/√3:
  const double q[3] = {std::sqrt(2.0) - 1, 1 / std::sqrt(2.0), 1 / std::sqrt(2.0)};
  const double qn = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
  EXPECT_NEAR(a[0].similarity, (q[0] + q[1] + q[2]) / (qn * std::sqrt(3.0)), 1e-7);
  EXPECT_EQ(a[1].word, "apple");
  EXPECT_THROW(analogy(v, "man", "woman", "prince", 1), adakit::UsageError);
}

}  // namespace
