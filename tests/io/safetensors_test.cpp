// safetensors I/O: round trips, the on-disk layout, corruption detection, atomic writes, state dicts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/registry.hpp"

namespace {

namespace fs = std::filesystem;
using adakit::Error;
using adakit::Tensor;
using adakit::io::TensorFile;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         (a.numel() == 0 || std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(float)) == 0);
}

// A fresh directory per test, removed afterwards.
class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("adakit_st_" + std::to_string(::getpid()) + "_" + info->name() + "_" +
                                        std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  static TensorFile sample() {
    TensorFile f;
    f.tensors.emplace("weight", Tensor::from({2, 3}, {1.0f, -2.5f, 3.25f, -0.0f, 1e-40f, 3.4e38f}));
    f.tensors.emplace("bias", Tensor::from({3}, {std::numeric_limits<float>::infinity(), -1.0f / 3.0f, 7.0f}));
    f.tensors.emplace("scalar", Tensor::from({}, {42.0f}));
    f.tensors.emplace("nan", Tensor::from({1, 1}, {std::numeric_limits<float>::quiet_NaN()}));
    f.tensors.emplace("layer.0.w", Tensor({4, 5}, 0.125f));
    f.metadata["format"] = "pt";
    f.metadata["note"] = "quotes \" and \\ and unicode \xc3\xa9";
    f.metadata["empty"] = "";
    return f;
  }
  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripIsBitExact) {
  const TensorFile f = sample();
  const fs::path path = dir_ / "model.safetensors";
  adakit::io::write_safetensors(path, f);
  const TensorFile g = adakit::io::read_safetensors(path);
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    SCOPED_TRACE(name);
    auto it = g.tensors.find(name);
    ASSERT_NE(it, g.tensors.end());
    EXPECT_TRUE(same_bits(t, it->second));
  }
  // The checksum entry is verified and dropped: the metadata reads back exactly as written.
  EXPECT_EQ(g.metadata, f.metadata);

  // Writing again over the same path replaces the file.
  TensorFile h;
  h.tensors.emplace("only", Tensor::from({2}, {5.0f, 6.0f}));
  adakit::io::write_safetensors(path, h);
  const TensorFile k = adakit::io::read_safetensors(path);
  ASSERT_EQ(k.tensors.size(), 1u);
  EXPECT_TRUE(same_bits(k.tensors.at("only"), h.tensors.at("only")));
  EXPECT_TRUE(k.metadata.empty());
}

TEST_F(SafetensorsTest, EmptyTensorAndEmptyFile) {
  TensorFile f;
  f.tensors.emplace("none", Tensor({0, 4}));
  f.tensors.emplace("one", Tensor::from({1}, {1.5f}));
  const fs::path path = dir_ / "e.safetensors";
  adakit::io::write_safetensors(path, f);
  const TensorFile g = adakit::io::read_safetensors(path);
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.tensors.at("none").shape(), (adakit::Shape{0, 4}));
  EXPECT_TRUE(same_bits(g.tensors.at("one"), f.tensors.at("one")));

  const fs::path nothing = dir_ / "nothing.safetensors";
  adakit::io::write_safetensors(nothing, TensorFile{});
  const TensorFile n = adakit::io::read_safetensors(nothing);
  EXPECT_TRUE(n.tensors.empty());
  EXPECT_TRUE(n.metadata.empty());
}

TEST_F(SafetensorsTest, LayoutIsValidSafetensors) {
  const TensorFile f = sample();
  const fs::path path = dir_ / "layout.safetensors";
  adakit::io::write_safetensors(path, f);
  const std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u) << "payload aligned to 8 bytes";
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  ASSERT_TRUE(header.is_object());
  const std::size_t payload_size = bytes.size() - 8 - n;

  std::uint64_t covered = 0;
  for (const auto& [name, t] : f.tensors) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(header.contains(name));
    const auto& e = header.at(name);
    EXPECT_EQ(e.at("dtype"), "F32");
    EXPECT_EQ(e.at("shape").get<std::vector<std::int64_t>>(), t.shape());
    const auto off = e.at("data_offsets").get<std::vector<std::uint64_t>>();
    ASSERT_EQ(off.size(), 2u);
    ASSERT_LE(off[0], off[1]);
    ASSERT_LE(off[1], payload_size);
    ASSERT_EQ(off[1] - off[0], static_cast<std::uint64_t>(t.numel()) * 4u);
    EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + off[0], t.data(), off[1] - off[0]), 0);
    covered += off[1] - off[0];
  }
  EXPECT_EQ(covered, payload_size) << "the payload holds the tensors and nothing else";
  ASSERT_TRUE(header.contains("__metadata__"));
  const auto& meta = header.at("__metadata__");
  for (const auto& [k, v] : f.metadata) EXPECT_EQ(meta.at(k), v) << k;
  for (const auto& [k, v] : meta.items()) EXPECT_TRUE(v.is_string()) << k;
  EXPECT_TRUE(meta.contains("adakit.payload_fnv1a64"));
  EXPECT_EQ(header.size(), f.tensors.size() + 1);
}

TEST_F(SafetensorsTest, TruncatedFileNamesThePath) {
  const fs::path path = dir_ / "cut.safetensors";
  adakit::io::write_safetensors(path, sample());
  const std::string bytes = read_bytes(path);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  // Cut in the payload, in the header, and inside the length word.
  for (std::size_t keep : {bytes.size() - 3, bytes.size() - 4, static_cast<std::size_t>(8 + n), std::size_t{8 + 10},
                           std::size_t{5}, std::size_t{0}}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(bytes.size()) + " bytes");
    write_bytes(path, bytes.substr(0, keep));
    try {
      (void)adakit::io::read_safetensors(path);
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
      EXPECT_EQ(e.context().file, path.string());
    }
  }
}

TEST_F(SafetensorsTest, FlippedPayloadByteIsDetected) {
  const fs::path path = dir_ / "flip.safetensors";
  adakit::io::write_safetensors(path, sample());
  const std::string good = read_bytes(path);
  std::uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  const std::size_t payload = 8 + n;
  ASSERT_LT(payload, good.size());
  for (std::size_t at : {payload, payload + 13, good.size() - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    write_bytes(path, bad);
    try {
      (void)adakit::io::read_safetensors(path);
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
    }
  }
  // A corrupted header is an Error naming the file too.
  std::string bad_header = good;
  bad_header[8] = '[';
  write_bytes(path, bad_header);
  try {
    (void)adakit::io::read_safetensors(path);
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
  }
}

TEST_F(SafetensorsTest, MissingFileThrows) {
  const fs::path path = dir_ / "does_not_exist.safetensors";
  try {
    (void)adakit::io::read_safetensors(path);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
  }
  EXPECT_THROW((void)adakit::io::load_state_dict(path), Error);
}

TEST_F(SafetensorsTest, AtomicWriteLeavesNoTemporaryFiles) {
  const fs::path path = dir_ / "blob.bin";
  const std::string first(100000, 'a');
  adakit::io::write_file_atomic(path, first);
  EXPECT_EQ(read_bytes(path), first);
  EXPECT_EQ(listing(), std::vector<std::string>{"blob.bin"});

  std::string second = "second version\n";
  second.push_back('\0');
  second += "binary";
  adakit::io::write_file_atomic(path, second);
  EXPECT_EQ(read_bytes(path), second);
  adakit::io::write_file_atomic(dir_ / "other.bin", "");
  EXPECT_EQ(read_bytes(dir_ / "other.bin"), "");
  adakit::io::write_safetensors(dir_ / "t.safetensors", sample());
  EXPECT_EQ(listing(), (std::vector<std::string>{"blob.bin", "other.bin", "t.safetensors"}));

  // A directory that does not exist: an Error, and still no stray files.
  EXPECT_THROW(adakit::io::write_file_atomic(dir_ / "no_such_dir" / "x.bin", "x"), Error);
  EXPECT_EQ(listing(), (std::vector<std::string>{"blob.bin", "other.bin", "t.safetensors"}));
}

TEST_F(SafetensorsTest, StateDictRoundTrip) {
  adakit::optim::StateDict d;
  d.tensors.emplace("fc1.weight.sum", Tensor::from({2, 2}, {0.5f, 1e-30f, -0.0f, 9.0f}));
  d.tensors.emplace("fc1.bias.sum", Tensor::from({2}, {1.0f, 2.0f}));
  d.counters["optimizer.steps"] = 123;
  d.counters["fc1.weight.step"] = 0;
  d.counters["negative"] = -7;
  d.counters["big"] = std::numeric_limits<std::int64_t>::max();
  d.counters["small"] = std::numeric_limits<std::int64_t>::min();
  d.metadata["optimizer"] = "adagrad";
  d.metadata["group.0.lr"] = "0.1";
  d.metadata["empty"] = "";
  d.metadata["counter.looks_like_a_counter"] = "not one";  // prefixes keep the two maps apart
  const fs::path path = dir_ / "state.safetensors";
  adakit::io::save_state_dict(path, d);
  const adakit::optim::StateDict e = adakit::io::load_state_dict(path);
  EXPECT_EQ(e.counters, d.counters);
  EXPECT_EQ(e.metadata, d.metadata);
  ASSERT_EQ(e.tensors.size(), d.tensors.size());
  for (const auto& [k, t] : d.tensors) EXPECT_TRUE(same_bits(t, e.tensors.at(k))) << k;

  // A counter that is not an integer is an Error naming the file.
  TensorFile bad;
  bad.metadata["counter.steps"] = "12x";
  const fs::path bad_path = dir_ / "bad.safetensors";
  adakit::io::write_safetensors(bad_path, bad);
  try {
    (void)adakit::io::load_state_dict(bad_path);
    FAIL() << "no exception";
  } catch (const Error& err) {
    EXPECT_TRUE(contains(err.what(), bad_path.string())) << err.what();
  }
}

TEST_F(SafetensorsTest, OptimizerStateDictSurvivesAFile) {
  adakit::Parameter w("w", Tensor::from({3}, {1.0f, 2.0f, 3.0f}));
  auto opt = adakit::optim::make_optimizer("adam", {&w}, {{"lr", "0.1"}, {"amsgrad", "true"}});
  for (int s = 0; s < 3; ++s) {
    for (std::int64_t i = 0; i < 3; ++i) w.grad()[i] = w.value()[i] - static_cast<float>(s);
    opt->step();
  }
  const auto d = opt->state_dict();
  const fs::path path = dir_ / "adam.safetensors";
  adakit::io::save_state_dict(path, d);
  const auto e = adakit::io::load_state_dict(path);
  EXPECT_EQ(e.counters, d.counters);
  EXPECT_EQ(e.metadata, d.metadata);
  ASSERT_EQ(e.tensors.size(), 3u);  // exp_avg, exp_avg_sq, max_exp_avg_sq
  for (const auto& [k, t] : d.tensors) EXPECT_TRUE(same_bits(t, e.tensors.at(k))) << k;
  EXPECT_EQ(e.counters.at("optimizer.steps"), 3);
  EXPECT_EQ(e.counters.at("w.step"), 3);
  EXPECT_EQ(e.metadata.at("optimizer"), "adam");
}

}  // namespace
