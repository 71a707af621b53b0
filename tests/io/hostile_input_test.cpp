// Sizes read from a file never decide an allocation on their own: library-level checks behind the
// CLI's bad-input table (tests/cli/bad_input_test.sh) — overflowing shapes, architectures larger than
// their file, linear models of 10^12 weights, LIBSVM indices past a cap, IDX headers claiming 10^12
// bytes over a 100-byte file. Each is an adakit::Error naming the source and the field.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/readers.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/nn/sequential.hpp"

namespace {
using namespace adakit;
using adakit::test::contains;

std::string safetensors_bytes(const nlohmann::json& header, std::size_t payload) {
  const std::string h = header.dump();
  std::string b(8, '\0');
  const std::uint64_t n = h.size();
  std::memcpy(b.data(), &n, 8);
  return b + h + std::string(payload, '\0');
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(HostileInput, SafetensorsShapesMustBeNonNegativeIntegersThatFitTheBytes) {
  const auto parse = [](const nlohmann::json& shape, std::size_t payload, std::uint64_t end) {
    return error_of([&] {
      (void)io::parse_safetensors(
          safetensors_bytes({{"w", {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {0, end}}}}}, payload), "src");
    });
  };
  // 2^32 * 2^32 * 4 overflows 64 bits (to 0 elements, matching empty offsets if unchecked).
  EXPECT_TRUE(contains(parse({4294967296ULL, 4294967296ULL, 4}, 0, 0), "src: field 'w': shape")) << parse({4294967296ULL, 4294967296ULL, 4}, 0, 0);
  EXPECT_TRUE(contains(parse({4294967296ULL, 4294967296ULL, 4}, 0, 0), "more elements than any file holds"));
  EXPECT_TRUE(contains(parse({1000000, 1000000}, 8, 8), "do not match the shape [1000000, 1000000]"));
  EXPECT_TRUE(contains(parse({-1}, 4, 4), "expected non-negative integers"));
  EXPECT_TRUE(contains(parse({1.5}, 4, 4), "expected non-negative integers"));
  EXPECT_TRUE(contains(parse({1e300}, 4, 4), "expected non-negative integers"));
  EXPECT_TRUE(contains(parse({2}, 4, 8), "lie outside the 4-byte payload"));
  EXPECT_EQ(parse({0, 1000000000000LL}, 0, 0), "(no error)");  // empty, whatever the other dimension
  EXPECT_THROW(shape_numel({4294967296LL, 4294967296LL}), UsageError);
}

TEST(HostileInput, AModelFileCannotDeclareMoreParametersThanItHolds) {
  const nlohmann::json arch = {{"kind", "sequential"},
                               {"layers", {{{"kind", "linear"}, {"in_features", 100000}, {"out_features", 100000}}}}};
  nlohmann::json task = {{"objective", "mse"},    {"input_shape", {100000}}, {"class_names", nlohmann::json::array()},
                               {"feature_names", nlohmann::json::array()}, {"scaler_mean", nlohmann::json::array()},
                               {"scaler_scale", nlohmann::json::array()},  {"dataset", "x"}};
  io::TensorFile f;
  f.tensors.emplace("0.weight", Tensor({2}));
  f.metadata = {{"format", "adakit.model.v1"}, {"adakit.architecture", arch.dump()}, {"adakit.task", task.dump()}};
  const std::string e = error_of([&] { (void)io::model_from_tensor_file(f, "m.safetensors"); });
  EXPECT_TRUE(contains(e, "m.safetensors: field 'adakit.architecture.layers'")) << e;
  EXPECT_TRUE(contains(e, "declares more than 2 parameter values")) << e;
  // The same budget check in the library: 10^10 + 10^5 declared, 2^16 allowed.
  EXPECT_THROW((void)nn::Sequential::from_config(arch, std::int64_t{1} << 16), Error);
  EXPECT_EQ(nn::declared_parameters(arch["layers"][0]), 10000000000LL + 100000);
  EXPECT_EQ(nn::declared_parameters({{"kind", "linear"}, {"in_features", 1LL << 40}, {"out_features", 1LL << 40}}),
            std::numeric_limits<std::int64_t>::max());
  // A bad task: input shape and scaler lengths are checked, not trusted.
  const nlohmann::json small = {{"kind", "sequential"}, {"layers", {{{"kind", "linear"}, {"in_features", 1}, {"out_features", 1}}}}};
  f.tensors = {{"0.weight", Tensor({1, 1})}, {"0.bias", Tensor({1})}};
  f.metadata["adakit.architecture"] = small.dump();
  task["input_shape"] = {1};
  task["scaler_mean"] = {1.0, 2.0};
  task["scaler_scale"] = {1.0, 2.0};
  f.metadata["adakit.task"] = task.dump();
  EXPECT_TRUE(contains(error_of([&] { (void)io::model_from_tensor_file(f, "m"); }), "expected an empty list or 1 numbers"));
}

TEST(HostileInput, LinearModelJsonSizesAndNumbersAreChecked) {
  nlohmann::json j = {{"format", "adakit.linear"}, {"task", "logistic"}, {"dim", 1000000000000LL}, {"classes", 2},
                      {"fit_bias", true}, {"bias", {0.0}}, {"rows", nlohmann::json::array()}, {"values", nlohmann::json::array()}};
  EXPECT_TRUE(contains(error_of([&] { (void)linear::LinearModel::from_json(j); }), "more than 2^31 weights"));
  j["dim"] = 10;
  j["task"] = "softmax";
  j["classes"] = 100000000;
  EXPECT_THROW((void)linear::LinearModel::from_json(j), Error);
  j["task"] = "logistic";
  j["classes"] = 2;
  j["bias"] = {1e300};
  EXPECT_TRUE(contains(error_of([&] { (void)linear::LinearModel::from_json(j); }), "expected finite float32 numbers"));
  j["bias"] = {0.0};
  j["rows"] = {1e300};
  j["values"] = {1.0};
  EXPECT_TRUE(contains(error_of([&] { (void)linear::LinearModel::from_json(j); }), "expected integer feature indices"));
  j["rows"] = {3};
  EXPECT_EQ(linear::LinearModel::from_json(j).weight_row(3)[0], 1.0f);
}

TEST(HostileInput, LibsvmIndicesStopAtMaxIndexWithTheLine) {
  data::LibsvmOptions o;
  o.max_index = 1000;
  const std::string e = error_of([&] { (void)data::parse_libsvm("1 5:1\n0 1001:1\n", "f.svm", o); });
  EXPECT_TRUE(contains(e, "f.svm:2: field 'column 3': index above the largest one allowed, 1000: '1001:1'")) << e;
  EXPECT_EQ(data::parse_libsvm("1 5:1\n0 1000:1\n", "f.svm", o).features.cols, 1000);
}

TEST(HostileInput, IdxHeaderClaimingTerabytesIsATruncationError) {
  adakit::test::TempDir dir;
  const auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::ofstream(dir / "images", std::ios::binary) << be32(0x803) + be32(1000000) + be32(1000) + be32(1000) + std::string(100, '\0');
  std::ofstream(dir / "labels", std::ios::binary) << be32(0x801) + be32(1) + std::string(1, '\0');
  const std::string e = error_of([&] { (void)data::read_idx(dir / "images", dir / "labels"); });
  EXPECT_TRUE(contains(e, "the header announces 1000000000000 bytes of data after its 16 bytes, the file holds 100")) << e;
  // Dimensions whose product overflows 64 bits.
  std::ofstream(dir / "images", std::ios::binary | std::ios::trunc)
      << be32(0x803) + be32(0x7fffffff) + be32(0x7fffffff) + be32(0x7fffffff);
  EXPECT_TRUE(contains(error_of([&] { (void)data::read_idx(dir / "images", dir / "labels"); }), "more than 2^40 bytes"));
}

}  // namespace
