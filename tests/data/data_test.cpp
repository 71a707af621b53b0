// The data layer: Dataset, split, scaler, the CSV / IDX / CIFAR-10 readers and the built-in datasets.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/data/readers.hpp"

namespace {

namespace fs = std::filesystem;
using adakit::Error;
using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;
using adakit::data::CsvOptions;
using adakit::data::Dataset;
using adakit::data::MissingDataError;

const fs::path kDataDir = fs::path(ADAKIT_SOURCE_DIR) / "data";
const fs::path kFashionDir = "/usr/share/datasets/fashion-mnist";

using adakit::test::contains;
using adakit::test::TempDir;


// Sets (or unsets, with nullptr) an environment variable for one scope.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

using Bytes = std::vector<unsigned char>;

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::uint32_t crc32(const Bytes& data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A valid gzip member holding `data` in stored (uncompressed) deflate blocks (RFC 1951 / 1952),
// written here so that the tests need no compressor.
Bytes gzip_stored(const Bytes& data) {
  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  std::size_t pos = 0;
  do {
    const std::size_t len = std::min<std::size_t>(data.size() - pos, 65535);
    const bool last = pos + len == data.size();
    out.push_back(last ? 1 : 0);
    out.push_back(static_cast<unsigned char>(len & 0xFF));
    out.push_back(static_cast<unsigned char>(len >> 8));
    out.push_back(static_cast<unsigned char>(~len & 0xFF));
    out.push_back(static_cast<unsigned char>((~len >> 8) & 0xFF));
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(pos), data.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  } while (pos < data.size());
  const std::uint32_t crc = crc32(data);
  const auto size = static_cast<std::uint32_t>(data.size());
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<unsigned char>((crc >> (8 * k)) & 0xFF));
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<unsigned char>((size >> (8 * k)) & 0xFF));
  return out;
}

void put_be32(Bytes& out, std::uint32_t v) {
  for (int k = 3; k >= 0; --k) out.push_back(static_cast<unsigned char>((v >> (8 * k)) & 0xFF));
}

// IDX images (n x rows x cols, pixel = (i * 7 + p) % 256) and labels (i % 3).
Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes out;
  put_be32(out, 0x00000803);
  put_be32(out, n);
  put_be32(out, rows);
  put_be32(out, cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < rows * cols; ++p) out.push_back(static_cast<unsigned char>((i * 7 + p) % 256));
  return out;
}
Bytes idx_labels(std::uint32_t n) {
  Bytes out;
  put_be32(out, 0x00000801);
  put_be32(out, n);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(static_cast<unsigned char>(i % 3));
  return out;
}

// CIFAR-10 records: label r % 10; red plane = r, green = 100 + r, blue = 200 + p % 50.
Bytes cifar_records(int n) {
  Bytes out;
  for (int r = 0; r < n; ++r) {
    out.push_back(static_cast<unsigned char>(r % 10));
    for (int p = 0; p < 1024; ++p) out.push_back(static_cast<unsigned char>(r));
    for (int p = 0; p < 1024; ++p) out.push_back(static_cast<unsigned char>(100 + r));
    for (int p = 0; p < 1024; ++p) out.push_back(static_cast<unsigned char>(200 + p % 50));
  }
  return out;
}

// Runs f, expects an adakit::Error (of type E) and returns it.
template <class E = Error, class F>
E expect_error(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception type: " << e.what();
    throw;
  }
  ADD_FAILURE() << "no exception thrown";
  throw std::logic_error("no exception");
}

// Checks that what() names the file, the line and the column.
void expect_names(const Error& e, const fs::path& file, std::int64_t line, const std::string& column) {
  const std::string what = e.what();
  EXPECT_TRUE(contains(what, file.string() + ":" + std::to_string(line) + ":")) << what;
  EXPECT_TRUE(contains(what, "'" + column + "'")) << what;
  EXPECT_EQ(e.context().file, file.string());
  EXPECT_EQ(e.context().line, line);
  EXPECT_EQ(e.context().field, column);
}

Dataset make_classification(std::int64_t n, int classes) {
  Dataset d;
  d.name = "toy";
  d.features = Tensor({n, 2});
  for (std::int64_t i = 0; i < n; ++i) {
    d.features[2 * i] = static_cast<float>(i);
    d.features[2 * i + 1] = static_cast<float>(i % 7) * 3.0f - 5.0f;
    d.labels.push_back(static_cast<std::int32_t>(i % classes));
  }
  for (int c = 0; c < classes; ++c) d.class_names.push_back("c" + std::to_string(c));
  return d;
}

// ---------------------------------------------------------------- Dataset

TEST(DataDataset, ShapesAndSubset) {
  Dataset d = make_classification(10, 3);
  d.feature_names = {"a", "b"};
  EXPECT_EQ(d.size(), 10);
  EXPECT_TRUE(d.is_classification());
  EXPECT_EQ(d.num_classes(), 3);
  EXPECT_EQ(d.sample_shape(), (Shape{2}));
  EXPECT_EQ(d.sample_size(), 2);

  const std::vector<std::int64_t> rows = {7, 2, 2};
  const Dataset s = d.subset(rows);
  EXPECT_EQ(s.size(), 3);
  EXPECT_EQ(s.features[0], 7.0f);
  EXPECT_EQ(s.features[2], 2.0f);
  EXPECT_EQ(s.labels, (std::vector<std::int32_t>{1, 2, 2}));
  EXPECT_EQ(s.class_names, d.class_names);
  EXPECT_EQ(s.feature_names, d.feature_names);
  const std::vector<std::int64_t> bad = {10};
  EXPECT_THROW((void)d.subset(bad), UsageError);

  Dataset empty;
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.sample_size(), 0);
}

TEST(DataDataset, RegressionSubsetAndFlatten) {
  Dataset d;
  d.features = Tensor({4, 1, 2, 2});
  for (std::int64_t i = 0; i < 16; ++i) d.features[i] = static_cast<float>(i);
  d.targets = Tensor::from({4}, {0.5f, 1.5f, 2.5f, 3.5f});
  EXPECT_FALSE(d.is_classification());
  EXPECT_EQ(d.num_classes(), 0);
  EXPECT_EQ(d.sample_shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(d.sample_size(), 4);
  const std::vector<std::int64_t> rows = {3, 0};
  const Dataset s = d.subset(rows);
  EXPECT_EQ(s.features.shape(), (Shape{2, 1, 2, 2}));
  EXPECT_EQ(s.features[0], 12.0f);
  EXPECT_EQ(s.features[4], 0.0f);
  EXPECT_EQ(s.targets.shape(), (Shape{2}));
  EXPECT_EQ(s.targets[0], 3.5f);
  EXPECT_FALSE(s.is_classification());
  adakit::data::flatten_features(d);
  EXPECT_EQ(d.features.shape(), (Shape{4, 4}));
}

// ---------------------------------------------------------------- split and scaler

TEST(DataSplit, StratifiedDeterministicDisjointComplete) {
  const Dataset d = make_classification(103, 3);  // classes of 35, 34, 34
  const auto a = adakit::data::train_test_split(d, 0.25, 42);
  EXPECT_EQ(a.test.size(), 26);  // ceil(0.25 * 103)
  EXPECT_EQ(a.train.size(), 77);
  std::vector<std::int64_t> all = a.train_rows;
  all.insert(all.end(), a.test_rows.begin(), a.test_rows.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(103);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);  // disjoint and complete
  // Rows follow their source: feature 0 is the row index.
  for (std::size_t i = 0; i < a.test_rows.size(); ++i) {
    EXPECT_EQ(a.test.features[2 * static_cast<std::int64_t>(i)], static_cast<float>(a.test_rows[i]));
    EXPECT_EQ(a.test.labels[i], d.labels[static_cast<std::size_t>(a.test_rows[i])]);
  }
  // Stratified: each class within one row of 25%.
  std::array<int, 3> per_class{};
  for (auto l : a.test.labels) ++per_class[static_cast<std::size_t>(l)];
  EXPECT_NEAR(per_class[0], 0.25 * 35, 1.0);
  EXPECT_NEAR(per_class[1], 0.25 * 34, 1.0);
  EXPECT_NEAR(per_class[2], 0.25 * 34, 1.0);

  const auto b = adakit::data::train_test_split(d, 0.25, 42);
  EXPECT_EQ(a.test_rows, b.test_rows);
  EXPECT_EQ(a.train_rows, b.train_rows);
  const auto c = adakit::data::train_test_split(d, 0.25, 43);
  EXPECT_NE(a.test_rows, c.test_rows);
}

TEST(DataSplit, IrisIsExactlyStratified) {
  const auto iris = adakit::data::load_data({"iris", {}, {}}).train;
  const auto s = adakit::data::train_test_split(iris, 0.2, 7);
  std::array<int, 3> per_class{};
  for (auto l : s.test.labels) ++per_class[static_cast<std::size_t>(l)];
  EXPECT_EQ(per_class, (std::array<int, 3>{10, 10, 10}));
  EXPECT_EQ(s.train.size(), 120);
  EXPECT_EQ(s.train.class_names, iris.class_names);
}

TEST(DataSplit, UnstratifiedRegressionAndBadFractions) {
  Dataset d;
  d.features = Tensor({10, 1});
  d.targets = Tensor({10});
  for (std::int64_t i = 0; i < 10; ++i) d.features[i] = d.targets[i] = static_cast<float>(i);
  const auto s = adakit::data::train_test_split(d, 0.3, 1);
  EXPECT_EQ(s.test.size(), 3);
  EXPECT_EQ(s.train.size(), 7);
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(s.test.targets[i], s.test.features[i]);

  const Dataset c = make_classification(20, 2);
  const auto u = adakit::data::train_test_split(c, 0.5, 3, /*stratify=*/false);
  EXPECT_EQ(u.test.size(), 10);

  for (double f : {0.0, 1.0, -0.1, 1.5, std::nan("")})
    EXPECT_THROW((void)adakit::data::train_test_split(c, f, 1), UsageError) << f;
  EXPECT_EQ(adakit::data::train_test_split(c, 0.01, 1).test.size(), 1);          // ceil(0.2) = 1 row
  EXPECT_THROW((void)adakit::data::train_test_split(c, 0.99, 1), UsageError);  // no train rows left
}

TEST(DataScaler, FitOnTrainGivesZeroMeanUnitStd) {
  const auto iris = adakit::data::load_data({"iris", {}, {}}).train;
  auto s = adakit::data::train_test_split(iris, 0.3, 5);
  adakit::data::StandardScaler scaler;
  EXPECT_THROW(scaler.transform(s.train), UsageError);
  scaler.fit(s.train);
  scaler.transform(s.train);
  scaler.transform(s.test);
  const std::int64_t n = s.train.size(), f = s.train.sample_size();
  for (std::int64_t j = 0; j < f; ++j) {
    double sum = 0, sq = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += s.train.features[i * f + j];
    const double mean = sum / static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) sq += std::pow(s.train.features[i * f + j] - mean, 2);
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(std::sqrt(sq / static_cast<double>(n)), 1.0, 1e-5);
  }
  for (float v : s.test.features.span()) EXPECT_TRUE(std::isfinite(v));

  // A constant feature keeps scale 1 (no division by zero).
  Dataset c;
  c.features = Tensor::from({3, 2}, {1, 5, 2, 5, 3, 5});
  c.labels = {0, 1, 0};
  scaler.fit(c);
  EXPECT_EQ(scaler.scale[1], 1.0f);
  scaler.transform(c);
  EXPECT_EQ(c.features[1], 0.0f);
  EXPECT_THROW(scaler.transform(s.train), UsageError);  // 4 features, fitted on 2
  EXPECT_THROW(scaler.fit(Dataset{}), UsageError);
}

// ---------------------------------------------------------------- CSV

TEST(CsvReader, HeaderDetectedTextLabels) {
  TempDir tmp;
  const auto path = tmp / "flowers.csv";
  write_text(path, "a,b,kind\n1,2,rose\n3.5,-4e1,tulip\n\n 5 , +6 ,rose\n");
  const Dataset d = adakit::data::read_csv(path);
  EXPECT_EQ(d.name, "flowers");
  EXPECT_EQ(d.features.shape(), (Shape{3, 2}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"rose", "tulip"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{0, 1, 0}));
  EXPECT_EQ(d.features[2], 3.5f);
  EXPECT_EQ(d.features[3], -40.0f);
  EXPECT_EQ(d.features[5], 6.0f);
  EXPECT_TRUE(d.is_classification());
}

TEST(CsvReader, NoHeaderNumericLabelsSortedNumerically) {
  TempDir tmp;
  const auto path = tmp / "n.csv";
  write_text(path, "0.5,10\r\n1.5,2\r\n2.5,2.0\r\n3.5,-1\r\n");
  const Dataset d = adakit::data::read_csv(path);
  EXPECT_TRUE(d.feature_names.empty());
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"-1", "2", "10"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{2, 1, 1, 0}));
}

TEST(CsvReader, LabelColumnByNameAndIndex) {
  TempDir tmp;
  const auto path = tmp / "t.csv";
  write_text(path, "y,x1,x2\ncat,1,2\ndog,3,4\n");
  CsvOptions by_name;
  by_name.label_column = "y";
  const Dataset a = adakit::data::read_csv(path, by_name);
  EXPECT_EQ(a.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(a.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(a.features[0], 1.0f);
  CsvOptions by_index;
  by_index.label_column = "0";
  const Dataset b = adakit::data::read_csv(path, by_index);
  EXPECT_EQ(b.feature_names, a.feature_names);
  EXPECT_EQ(b.labels, a.labels);

  const auto plain = tmp / "p.csv";
  write_text(plain, "1,7,2\n3,8,4\n");
  CsvOptions middle;
  middle.label_column = "-2";  // from the end: the middle column
  const Dataset c = adakit::data::read_csv(plain, middle);
  EXPECT_EQ(c.class_names, (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(c.features[1], 2.0f);
  middle.label_column = "3";
  expect_error<UsageError>([&] { (void)adakit::data::read_csv(plain, middle); });
  middle.label_column = "species";
  const auto e = expect_error<UsageError>([&] { (void)adakit::data::read_csv(plain, middle); });
  EXPECT_TRUE(contains(e.what(), "species")) << e.what();
}

TEST(CsvReader, QuotedFieldsAndDelimiter) {
  TempDir tmp;
  const auto path = tmp / "q.csv";
  write_text(path,
             "\"len, cm\",\"w\"\"x\",label\n"
             "1,2,\"big, red\"\n"
             "\"3\",4,\"say \"\"hi\"\"\"\n"
             "5,6,\"two\nlines\"\n"
             "7,x,small\n");
  const auto e = expect_error([&] { (void)adakit::data::read_csv(path); });
  expect_names(e, path, 6, "w\"x");  // the quoted newline counts as a line
  write_text(path,
             "\"len, cm\",\"w\"\"x\",label\n"
             "1,2,\"big, red\"\n"
             "\"3\",4,\"say \"\"hi\"\"\"\n"
             "5,6,\"two\nlines\"\n");
  const Dataset d = adakit::data::read_csv(path);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"len, cm", "w\"x"}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"big, red", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(d.features[2], 3.0f);

  const auto tsv = tmp / "t.tsv";
  write_text(tsv, "a\tb\tc\n1\t2\t0\n3\t4\t1\n");
  CsvOptions o;
  o.delimiter = '\t';
  const Dataset t = adakit::data::read_csv(tsv, o);
  EXPECT_EQ(t.features.shape(), (Shape{2, 2}));
  EXPECT_EQ(t.name, "t");
}

TEST(CsvReader, RegressionAutoAndForced) {
  TempDir tmp;
  const auto path = tmp / "r.csv";
  write_text(path, "x,y\n1,0.5\n2,1.25\n3,-3\n");
  const Dataset d = adakit::data::read_csv(path);
  EXPECT_FALSE(d.is_classification());
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(d.targets.shape(), (Shape{3}));
  EXPECT_EQ(d.targets[1], 1.25f);

  const auto ints = tmp / "i.csv";
  write_text(ints, "x,y\n1,1\n2,2\n3,3\n");
  EXPECT_TRUE(adakit::data::read_csv(ints).is_classification());
  CsvOptions o;
  o.task = CsvOptions::Task::regression;
  EXPECT_FALSE(adakit::data::read_csv(ints, o).is_classification());

  // More than 50 distinct integers: regression.
  std::string many = "x,y\n";
  for (int i = 0; i < 60; ++i) many += std::to_string(i) + "," + std::to_string(i * 3) + "\n";
  write_text(ints, many);
  EXPECT_FALSE(adakit::data::read_csv(ints).is_classification());

  write_text(path, "x,y\n1,0.5\n2,abc\n");
  o.task = CsvOptions::Task::regression;
  expect_names(expect_error([&] { (void)adakit::data::read_csv(path, o); }), path, 3, "y");
}

TEST(CsvReader, ReadsGzip) {
  TempDir tmp;
  const std::string text = "f1,f2,label\n1,2,a\n3,4,b\n";
  const auto path = tmp / "z.csv.gz";
  write_bytes(path, gzip_stored(Bytes(text.begin(), text.end())));
  const Dataset d = adakit::data::read_csv(path);
  EXPECT_EQ(d.name, "z");
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.features[3], 4.0f);
}

TEST(CsvErrors, MissingAndNonNumericCells) {
  TempDir tmp;
  const auto path = tmp / "bad.csv";
  write_text(path, "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,,setosa\n");
  auto e = expect_error([&] { (void)adakit::data::read_csv(path); });
  expect_names(e, path, 3, "sepal_width");
  EXPECT_TRUE(contains(e.what(), "missing")) << e.what();

  write_text(path, "sepal_length,sepal_width,species\n5.1,3.5,setosa\n\n4.9,abc,setosa\n");
  e = expect_error([&] { (void)adakit::data::read_csv(path); });
  expect_names(e, path, 4, "sepal_width");  // the blank line still counts
  EXPECT_TRUE(contains(e.what(), "abc")) << e.what();

  write_text(path, "1,2,0\n3,nan,1\n");  // no header: columns by number, NaN refused
  expect_names(expect_error([&] { (void)adakit::data::read_csv(path); }), path, 2, "column 2");
  write_text(path, "1,2,0\n3,1e39,1\n");  // beyond float32
  expect_names(expect_error([&] { (void)adakit::data::read_csv(path); }), path, 2, "column 2");
  write_text(path, "1,inf,0\n");
  CsvOptions no_header;
  no_header.header = CsvOptions::Header::no;
  expect_names(expect_error([&] { (void)adakit::data::read_csv(path, no_header); }), path, 1, "column 2");
  write_text(path, "a,b,c\n1,2,\n");
  expect_names(expect_error([&] { (void)adakit::data::read_csv(path); }), path, 2, "c");
}

TEST(CsvErrors, StructuralErrors) {
  TempDir tmp;
  const auto path = tmp / "s.csv";
  write_text(path, "a,b,c\n1,2,0\n1,2\n");
  auto e = expect_error([&] { (void)adakit::data::read_csv(path); });
  EXPECT_EQ(e.context().line, 3);
  EXPECT_TRUE(contains(e.what(), path.string() + ":3")) << e.what();
  EXPECT_TRUE(contains(e.what(), "expected 3 cells, found 2")) << e.what();

  write_text(path, "");
  e = expect_error([&] { (void)adakit::data::read_csv(path); });
  EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
  EXPECT_TRUE(contains(e.what(), "empty")) << e.what();
  write_text(path, "\n  \n");
  EXPECT_THROW((void)adakit::data::read_csv(path), Error);

  write_text(path, "a,b,c\n");
  e = expect_error([&] { (void)adakit::data::read_csv(path); });
  EXPECT_TRUE(contains(e.what(), "no data rows")) << e.what();

  write_text(path, "a,b,c\n1,\"2,0\n3,4,5\n");
  e = expect_error([&] { (void)adakit::data::read_csv(path); });
  EXPECT_EQ(e.context().line, 2);
  EXPECT_TRUE(contains(e.what(), "unterminated")) << e.what();

  write_text(path, "a,b,c\n1,\"2\"x,0\n");
  EXPECT_EQ(expect_error([&] { (void)adakit::data::read_csv(path); }).context().line, 2);

  write_text(path, "justone\n1\n");
  EXPECT_THROW((void)adakit::data::read_csv(path), Error);

  e = expect_error([&] { (void)adakit::data::read_csv(tmp / "nope.csv"); });
  EXPECT_TRUE(contains(e.what(), "nope.csv")) << e.what();
  EXPECT_THROW((void)adakit::data::read_csv(tmp.path()), Error);  // a directory
}

// ---------------------------------------------------------------- IDX

TEST(IdxReader, RoundTripPlainAndGzip) {
  TempDir tmp;
  for (bool gz : {false, true}) {
    const auto images = tmp / (gz ? "img-idx3-ubyte.gz" : "img-idx3-ubyte");
    const auto labels = tmp / (gz ? "lab-idx1-ubyte.gz" : "lab-idx1-ubyte");
    const Bytes im = idx_images(5, 3, 4), lb = idx_labels(5);
    write_bytes(images, gz ? gzip_stored(im) : im);
    write_bytes(labels, gz ? gzip_stored(lb) : lb);
    const Dataset d = adakit::data::read_idx(images, labels);
    EXPECT_EQ(d.name, "img-idx3-ubyte");
    EXPECT_EQ(d.features.shape(), (Shape{5, 1, 3, 4}));
    EXPECT_EQ(d.labels, (std::vector<std::int32_t>{0, 1, 2, 0, 1}));
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1", "2"}));
    for (std::int64_t i = 0; i < 5; ++i)
      for (std::int64_t p = 0; p < 12; ++p)
        ASSERT_EQ(d.features[i * 12 + p], static_cast<float>((i * 7 + p) % 256) / 255.0f);
  }
  // Large enough for several gzip blocks and reads.
  const Bytes big = idx_images(300, 28, 28);
  write_bytes(tmp / "big.gz", gzip_stored(big));
  write_bytes(tmp / "big-labels", idx_labels(300));
  const Dataset d = adakit::data::read_idx(tmp / "big.gz", tmp / "big-labels");
  EXPECT_EQ(d.size(), 300);
  EXPECT_EQ(d.features[299 * 784 + 783], static_cast<float>((299 * 7 + 783) % 256) / 255.0f);
}

TEST(IdxErrors, BadMagicTruncatedAndMismatch) {
  TempDir tmp;
  const auto images = tmp / "images", labels = tmp / "labels";
  write_bytes(labels, idx_labels(4));

  write_bytes(images, idx_labels(4));  // a labels file where images belong
  auto e = expect_error([&] { (void)adakit::data::read_idx(images, labels); });
  EXPECT_EQ(e.context().file, images.string());
  EXPECT_TRUE(contains(e.what(), "magic")) << e.what();
  EXPECT_TRUE(contains(e.what(), "0x00000801")) << e.what();

  Bytes im = idx_images(4, 2, 2);
  im.resize(im.size() - 3);
  write_bytes(images, im);
  e = expect_error([&] { (void)adakit::data::read_idx(images, labels); });
  EXPECT_TRUE(contains(e.what(), images.string())) << e.what();
  EXPECT_TRUE(contains(e.what(), "truncated")) << e.what();

  write_bytes(images, Bytes{0, 0, 8});
  EXPECT_TRUE(contains(expect_error([&] { (void)adakit::data::read_idx(images, labels); }).what(), "truncated"));

  im = idx_images(4, 2, 2);
  im.push_back(9);
  write_bytes(images, im);
  EXPECT_TRUE(contains(expect_error([&] { (void)adakit::data::read_idx(images, labels); }).what(), "trailing"));

  write_bytes(images, idx_images(3, 2, 2));
  e = expect_error([&] { (void)adakit::data::read_idx(images, labels); });
  EXPECT_TRUE(contains(e.what(), "count mismatch")) << e.what();
  EXPECT_TRUE(contains(e.what(), labels.string())) << e.what();

  // A gzip stream cut short.
  Bytes gz = gzip_stored(idx_images(4, 2, 2));
  gz.resize(gz.size() / 2);
  write_bytes(tmp / "cut.gz", gz);
  e = expect_error([&] { (void)adakit::data::read_idx(tmp / "cut.gz", labels); });
  EXPECT_TRUE(contains(e.what(), "cut.gz")) << e.what();
  EXPECT_TRUE(contains(e.what(), "truncated")) << e.what();

  e = expect_error([&] { (void)adakit::data::read_idx(tmp / "absent", labels); });
  EXPECT_TRUE(contains(e.what(), "absent")) << e.what();
}

// ---------------------------------------------------------------- CIFAR-10

TEST(CifarReader, ThreeRecords) {
  TempDir tmp;
  const auto path = tmp / "data_batch_1.bin";
  write_bytes(path, cifar_records(3));
  const Dataset d = adakit::data::read_cifar10_batch(path);
  EXPECT_EQ(d.name, "data_batch_1");
  EXPECT_EQ(d.features.shape(), (Shape{3, 3, 32, 32}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(d.class_names.size(), 10u);
  EXPECT_EQ(d.class_names[9], "truck");
  const std::int64_t rec = 3 * 1024;
  EXPECT_EQ(d.features[2 * rec + 5], 2.0f / 255.0f);                 // red plane of record 2
  EXPECT_EQ(d.features[2 * rec + 1024 + 5], 102.0f / 255.0f);        // green plane
  EXPECT_EQ(d.features[2 * rec + 2048 + 51], 201.0f / 255.0f);       // blue plane, pixel 51
  EXPECT_EQ(*std::max_element(d.features.span().begin(), d.features.span().end()), 249.0f / 255.0f);
}

TEST(CifarReader, DirectoryWithBatchesAndMeta) {
  TempDir tmp;
  for (int k = 1; k <= 5; ++k) write_bytes(tmp / ("data_batch_" + std::to_string(k) + ".bin"), cifar_records(k));
  write_bytes(tmp / "test_batch.bin", cifar_records(2));
  const Dataset train = adakit::data::read_cifar10(tmp.path(), true);
  EXPECT_EQ(train.size(), 15);
  EXPECT_EQ(train.labels[1], 0);  // first record of batch 2
  EXPECT_EQ(train.class_names[0], "airplane");
  write_text(tmp / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
  const Dataset test = adakit::data::read_cifar10(tmp.path(), false);
  EXPECT_EQ(test.size(), 2);
  EXPECT_EQ(test.class_names[9], "j");
  write_text(tmp / "batches.meta.txt", "a\nb\n");
  EXPECT_THROW((void)adakit::data::read_cifar10(tmp.path(), false), Error);
  fs::remove(tmp / "data_batch_4.bin");
  const auto e = expect_error<MissingDataError>([&] { (void)adakit::data::read_cifar10(tmp.path(), true); });
  EXPECT_TRUE(contains(e.what(), "data_batch_4.bin")) << e.what();
}

TEST(CifarErrors, TruncatedRecordAndBadLabel) {
  TempDir tmp;
  const auto path = tmp / "b.bin";
  Bytes b = cifar_records(3);
  b.resize(b.size() - 100);
  write_bytes(path, b);
  auto e = expect_error([&] { (void)adakit::data::read_cifar10_batch(path); });
  EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
  EXPECT_TRUE(contains(e.what(), "record 2")) << e.what();
  EXPECT_TRUE(contains(e.what(), "truncated")) << e.what();

  b = cifar_records(3);
  b[3073] = 10;
  write_bytes(path, b);
  e = expect_error([&] { (void)adakit::data::read_cifar10_batch(path); });
  EXPECT_TRUE(contains(e.what(), "record 1")) << e.what();

  write_bytes(path, {});
  EXPECT_THROW((void)adakit::data::read_cifar10_batch(path), Error);
}

// ---------------------------------------------------------------- built-in datasets

TEST(DataBuiltin, RegistryAndSearchPath) {
  const auto all = adakit::data::builtin_datasets();
  ASSERT_EQ(all.size(), 5u);
  std::set<std::string> names;
  for (const auto& b : all) {
    names.insert(std::string(b.name));
    EXPECT_FALSE(b.summary.empty());
    EXPECT_FALSE(b.how_to_get.empty());
    EXPECT_NE(b.load, nullptr);
    EXPECT_EQ(adakit::data::find_builtin(b.name), &b);
  }
  EXPECT_EQ(names, (std::set<std::string>{"iris", "iris-binary", "digits", "fashion-mnist", "cifar10"}));
  EXPECT_EQ(adakit::data::find_builtin("mnist"), nullptr);

  EnvGuard env("ADAKIT_DATA", "/some/where");
  const auto path = adakit::data::data_search_path("/mine");
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0], fs::path("/mine"));
  EXPECT_EQ(path[1], fs::path("/some/where"));
  EXPECT_EQ(path.back(), kDataDir);
  EnvGuard unset("ADAKIT_DATA", nullptr);
  EXPECT_EQ(adakit::data::data_search_path("").back(), kDataDir);
}

TEST(DataBuiltin, Iris) {
  const auto loaded = adakit::data::load_data({"iris", {}, {}});
  EXPECT_FALSE(loaded.test.has_value());
  const Dataset& d = loaded.train;
  EXPECT_EQ(d.name, "iris");
  EXPECT_EQ(d.features.shape(), (Shape{150, 4}));
  EXPECT_EQ(d.num_classes(), 3);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"sepal_length", "sepal_width", "petal_length", "petal_width"}));
  EXPECT_EQ(d.features[0], 5.1f);
  EXPECT_EQ(d.features[1], 3.5f);
  EXPECT_EQ(d.features[2], 1.4f);
  EXPECT_EQ(d.features[3], 0.2f);
  EXPECT_EQ(d.labels[0], 0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(std::count(d.labels.begin(), d.labels.end(), c), 50);
}

TEST(DataBuiltin, IrisBinary) {
  const Dataset d = adakit::data::load_data({"iris-binary", {}, {}}).train;
  EXPECT_EQ(d.name, "iris-binary");
  EXPECT_EQ(d.size(), 100);
  EXPECT_EQ(d.num_classes(), 2);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"setosa", "versicolor"}));
  for (auto l : d.labels) EXPECT_LT(l, 2);
}

TEST(DataBuiltin, Digits) {
  const Dataset d = adakit::data::load_data({"digits", {}, {}}).train;
  EXPECT_EQ(d.name, "digits");
  EXPECT_EQ(d.features.shape(), (Shape{1797, 1, 8, 8}));
  EXPECT_EQ(d.sample_size(), 64);
  EXPECT_EQ(d.num_classes(), 10);
  EXPECT_EQ(d.class_names.front(), "0");
  EXPECT_EQ(d.class_names.back(), "9");
  const auto [lo, hi] = std::minmax_element(d.features.span().begin(), d.features.span().end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
  EXPECT_EQ(d.labels[0], 0);
  EXPECT_EQ(d.features[2], 5.0f / 16.0f);  // first image, row 0: 0 0 5 13 ...
}

TEST(DataBuiltin, CsvPathAndUnknownName) {
  TempDir tmp;
  write_text(tmp / "mine.csv", "x;y;label\n1;2;a\n3;4;b\n");
  adakit::data::DataRequest r{(tmp / "mine.csv").string(), {}, {}};
  r.csv.delimiter = ';';
  const auto loaded = adakit::data::load_data(r);
  EXPECT_EQ(loaded.train.size(), 2);
  EXPECT_FALSE(loaded.test.has_value());
  const auto e = expect_error<UsageError>([] { (void)adakit::data::load_data({"no-such-set", {}, {}}); });
  EXPECT_TRUE(contains(e.what(), "no-such-set")) << e.what();
  EXPECT_TRUE(contains(e.what(), "fashion-mnist")) << e.what();
}

TEST(DataBuiltin, DataDirComesFirst) {
  TempDir tmp;
  write_text(tmp / "iris.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n1,2,3,4,setosa\n5,6,7,8,virginica\n");
  const Dataset d = adakit::data::load_data({"iris", tmp.path(), {}}).train;
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"setosa", "virginica"}));
}

TEST(DataBuiltin, Cifar10FromDataDirOrMissing) {
  TempDir tmp;
  EnvGuard env("ADAKIT_DATA", nullptr);
  const auto e = expect_error<MissingDataError>([&] { (void)adakit::data::load_data({"cifar10", tmp.path(), {}}); });
  EXPECT_TRUE(contains(e.what(), "cifar-10-binary.tar.gz")) << e.what();
  EXPECT_TRUE(contains(e.what(), tmp.path().string())) << e.what();

  const auto dir = tmp / "cifar-10-batches-bin";
  fs::create_directories(dir);
  for (int k = 1; k <= 5; ++k) write_bytes(dir / ("data_batch_" + std::to_string(k) + ".bin"), cifar_records(2));
  write_bytes(dir / "test_batch.bin", cifar_records(3));
  const auto loaded = adakit::data::load_data({"cifar10", tmp.path(), {}});
  EXPECT_EQ(loaded.train.size(), 10);
  ASSERT_TRUE(loaded.test.has_value());
  EXPECT_EQ(loaded.test->size(), 3);
  EXPECT_EQ(loaded.train.name, "cifar10");
}

TEST(DataBuiltin, FashionMnistFromDataDir) {
  // Small IDX files in <data-dir>/fashion-mnist, found before the system copy.
  TempDir tmp;
  const auto dir = tmp / "fashion-mnist";
  fs::create_directories(dir);
  write_bytes(dir / "train-images-idx3-ubyte.gz", gzip_stored(idx_images(6, 28, 28)));
  write_bytes(dir / "train-labels-idx1-ubyte.gz", gzip_stored(idx_labels(6)));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(2, 28, 28));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels(2));
  const auto loaded = adakit::data::load_data({"fashion-mnist", tmp.path(), {}});
  EXPECT_EQ(loaded.train.size(), 6);
  ASSERT_TRUE(loaded.test.has_value());
  EXPECT_EQ(loaded.test->size(), 2);
  EXPECT_EQ(loaded.train.class_names.size(), 10u);
  EXPECT_EQ(loaded.train.class_names[9], "Ankle boot");
}

TEST(DataBuiltin, FashionMnistSystemPackage) {
  if (!fs::exists(kFashionDir / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << kFashionDir << ")";
  EnvGuard env("ADAKIT_DATA", nullptr);
  const auto start = std::chrono::steady_clock::now();
  const auto loaded = adakit::data::load_data({"fashion-mnist", {}, {}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Timing is reported, not asserted (benchmarks are not tests; shared machines are noisy).
  ::testing::Test::RecordProperty("load_seconds", std::to_string(seconds));
  EXPECT_EQ(loaded.train.features.shape(), (Shape{60000, 1, 28, 28}));
  ASSERT_TRUE(loaded.test.has_value());
  EXPECT_EQ(loaded.test->features.shape(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(loaded.train.num_classes(), 10);
  EXPECT_EQ(loaded.train.class_names[0], "T-shirt/top");
  std::array<int, 10> counts{};
  for (auto l : loaded.test->labels) ++counts[static_cast<std::size_t>(l)];
  for (int c : counts) EXPECT_EQ(c, 1000);  // the test split is balanced
  const auto [lo, hi] = std::minmax_element(loaded.test->features.span().begin(), loaded.test->features.span().end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
}

}  // namespace
