// io/run.hpp: the data fingerprint (FNV-1a 64, the one io/safetensors.hpp writes its checksums with),
// a run's identity, the comparison --resume makes, and the checkpoint directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/io/run.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace {
using namespace adakit;

// adakit's offset basis is 1469598103934665603, one digit short of FNV's 14695981039346656037: the
// values below are adakit's (every checksum and fingerprint written so far uses them), computed
// independently in Python.
TEST(Fnv1a64, KnownValues) {
  EXPECT_EQ(io::hex64(io::fnv1a64("", 0)), "14650fb0739d0383");
  EXPECT_EQ(io::hex64(io::fnv1a64("a", 1)), "44bd8ad473cd9906");
  EXPECT_EQ(io::hex64(io::fnv1a64("foobar", 6)), "88fad7c0a8ff07f2");
  // Continued over ranges: the same as over their concatenation.
  EXPECT_EQ(io::fnv1a64("bar", 3, io::fnv1a64("foo", 3)), io::fnv1a64("foobar", 6));
}

data::Dataset two_rows(float second) {
  data::Dataset d;
  d.features = Tensor::from({2, 1}, {1.0f, second});
  d.labels = {0, 1};
  d.class_names = {"a", "b"};
  return d;
}

TEST(DataFingerprint, DenseKnownValueAndChangesWithTheData) {
  // FNV-1a 64 of float32 1, 2 then int32 0, 1 (little-endian).
  EXPECT_EQ(io::data_fingerprint(two_rows(2.0f)), "b17051c57136f38b");
  EXPECT_EQ(io::data_fingerprint(two_rows(2.5f)), "9ccc31550732aa6b");
  auto d = two_rows(2.0f);
  d.labels = {1, 0};
  EXPECT_NE(io::data_fingerprint(d), "b17051c57136f38b");
}

TEST(DataFingerprint, SparseKnownValue) {
  data::SparseDataset d;
  d.features.cols = 2;
  d.features.add_row(std::vector<std::int32_t>{0}, std::vector<float>{1.0f});
  d.features.add_row(std::vector<std::int32_t>{1}, std::vector<float>{2.0f});
  d.labels = {0, 1};
  d.class_names = {"a", "b"};
  // indptr int64 0 1 2, indices int32 0 1, values float32 1 2, labels int32 0 1.
  EXPECT_EQ(io::data_fingerprint(d), "5a58642fd316195d");
  d.features.values[1] = 3.0f;
  EXPECT_NE(io::data_fingerprint(d), "5a58642fd316195d");
}

TEST(RunIdentity, DenseAddsTheOptimizerAndTheFingerprint) {
  Parameter p("w", Tensor({2}, 0.0f));
  auto opt = optim::make_optimizer("adagrad", {&p}, {{"lr", "0.5"}});
  const auto run = io::run_identity({{"model", "mlp:4"}}, *opt, two_rows(2.0f));
  EXPECT_EQ(run.at("model"), "mlp:4");
  EXPECT_EQ(run.at("optimizer"), "adagrad");
  EXPECT_EQ(run.at("options").at("lr"), "0.5");
  EXPECT_EQ(run.at("schedule"), "constant");
  EXPECT_EQ(run.at("clip-norm"), "0");
  EXPECT_EQ(run.at(io::kFingerprintKey), "b17051c57136f38b");
}

TEST(RunIdentity, LinearAddsTheOptimizerAndTheFingerprint) {
  auto opt = linear::make_linear_optimizer("ftrl", {});
  data::SparseDataset d;
  const auto run = io::run_identity({{"seed", 3}}, *opt, d);
  EXPECT_EQ(run.at("seed"), 3);
  EXPECT_EQ(run.at("optimizer"), "ftrl");
  EXPECT_TRUE(run.at("options").is_object());
  EXPECT_FALSE(run.at("options").empty());
  EXPECT_EQ(run.at(io::kFingerprintKey), io::data_fingerprint(d));
}

TEST(CheckSameRun, ListsEveryDifferenceAndNamesTheFile) {
  const nlohmann::json saved = {{"batch-size", 16}, {"optimizer", "adagrad"}, {"options", {{"lr", "0.1"}}},
                                {io::kFingerprintKey, "aa"}};
  EXPECT_NO_THROW(io::check_same_run(saved, saved, "ck"));
  auto now = saved;
  now["batch-size"] = 8;
  now["options"]["lr"] = "0.2";
  now[io::kFingerprintKey] = "bb";
  try {
    io::check_same_run(saved, now, "ck/checkpoint.safetensors");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().file, "ck/checkpoint.safetensors");
    EXPECT_EQ(e.context().field, "adakit.run");
    EXPECT_NE(e.message().find("\n  --batch-size: checkpoint '16', this run '8'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("\n  --lr: checkpoint 0.1, this run 0.2"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("\n  training data (FNV-1a of the split): checkpoint 'aa', this run 'bb'"),
              std::string::npos)
        << e.message();
  }
}

TEST(SavedRunIdentity, MissingOrMalformed) {
  try {
    io::saved_run_identity({}, "f");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "not written by adakit train (no adakit.run entry)");
    EXPECT_EQ(e.context().field, "adakit.run");
  }
  EXPECT_THROW(io::saved_run_identity({{"adakit.run", "[1]"}}, "f"), Error);
  EXPECT_EQ(io::saved_run_identity({{"adakit.run", "{\"a\":1}"}}, "f").at("a"), 1);
}

TEST(CheckpointDir, ResumeNeedsADirectoryWithACheckpoint) {
  adakit::test::TempDir dir;
  const std::string d = dir.path().string();
  EXPECT_EQ(io::checkpoint_file(d), dir.path() / "checkpoint.safetensors");
  try {
    io::checkpoint_to_resume(d);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "resume");
    EXPECT_EQ(e.context().file, d);
  }
  EXPECT_THROW(io::checkpoint_to_resume((dir / "nothing").string()), UsageError);
  std::ofstream(dir / "checkpoint.safetensors") << "x";
  EXPECT_EQ(io::checkpoint_to_resume(d), dir.path() / "checkpoint.safetensors");
  io::make_checkpoint_dir((dir / "a" / "b").string());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "a" / "b"));
}

}  // namespace
