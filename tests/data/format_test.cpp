// data::resolve_format (--format against the data's name) and data::builtin_names (--help's list).
#include <gtest/gtest.h>

#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/prepare.hpp"

namespace {
using namespace adakit;

TEST(DataResolveFormat, GivenFormatWinsAutoGuessesFromTheName) {
  EXPECT_EQ(data::resolve_format("libsvm", "iris"), "libsvm");
  EXPECT_EQ(data::resolve_format("dense", "x.tsv"), "dense");
  EXPECT_EQ(data::resolve_format("auto", "x.tsv"), "text-tsv");
  EXPECT_EQ(data::resolve_format("auto", "sentiment-tiny"), "text-tsv");
  EXPECT_EQ(data::resolve_format("auto", "a/b.svm"), "libsvm");
  EXPECT_EQ(data::resolve_format("auto", "iris"), "dense");
  try {
    data::resolve_format("csv", "iris");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "field 'format': --format must be auto, dense, libsvm or text-tsv");
  }
}

TEST(DataBuiltinNames, JoinsTheTableInOrder) {
  std::string expected;
  for (const auto& b : data::builtin_datasets()) expected += (expected.empty() ? "" : ", ") + std::string(b.name);
  EXPECT_EQ(data::builtin_names(), expected);
  EXPECT_EQ(data::builtin_names().rfind("iris, ", 0), 0u);
}

}  // namespace
