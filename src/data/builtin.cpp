// The built-in datasets: one table of names, summaries, how to get each, and its loader.
#include "adakit/data/builtin.hpp"

#include <array>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"

// The bundled data/ directory of the source tree; the build defines it (src/CMakeLists.txt).
#ifndef ADAKIT_BUNDLED_DATA_DIR
#define ADAKIT_BUNDLED_DATA_DIR ""
#endif

namespace adakit::data {
namespace fs = std::filesystem;
namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string join(const std::vector<fs::path>& dirs) {
  std::string s;
  for (const auto& d : dirs) s += (s.empty() ? "" : ", ") + d.string();
  return s;
}

const BuiltinInfo& info(std::string_view name);  // defined after the table

[[noreturn]] void missing(std::string_view name, const std::string& what, const std::vector<fs::path>& looked_in) {
  throw MissingDataError(std::string(name) + ": " + what + " not found (looked in: " + join(looked_in) + "). " +
                         std::string(info(name).how_to_get));
}

// A bundled CSV file found along the search path.
fs::path find_bundled(std::string_view name, const std::string& file, const DataRequest& r) {
  const auto dirs = data_search_path(r.data_dir);
  for (const auto& d : dirs)
    if (is_file(d / file)) return d / file;
  missing(name, file, dirs);
}

LoadedData load_iris(const DataRequest& r) {
  CsvOptions o;
  o.label_column = "species";
  o.header = CsvOptions::Header::yes;
  o.task = CsvOptions::Task::classification;
  LoadedData out{read_csv(find_bundled("iris", "iris.csv", r), o), std::nullopt};
  out.train.name = "iris";
  return out;
}

LoadedData load_iris_binary(const DataRequest& r) {
  const Dataset iris = load_iris(r).train;
  std::vector<std::int64_t> rows;
  for (std::size_t i = 0; i < iris.labels.size(); ++i)
    if (iris.labels[i] < 2) rows.push_back(static_cast<std::int64_t>(i));
  LoadedData out{iris.subset(rows), std::nullopt};
  out.train.name = "iris-binary";
  out.train.class_names.resize(2);
  return out;
}

LoadedData load_digits(const DataRequest& r) {
  CsvOptions o;
  o.label_column = "digit";
  o.header = CsvOptions::Header::yes;
  o.task = CsvOptions::Task::classification;
  const fs::path path = find_bundled("digits", "digits.csv.gz", r);
  Dataset d = read_csv(path, o);
  if (d.features.dim(1) != 64)
    throw Error("expected 64 pixel columns, found " + std::to_string(d.features.dim(1)), {path.string(), 0, ""});
  for (float& v : d.features.span()) v /= 16.0f;  // pixel counts 0..16 -> [0, 1]
  d.features.reshape({d.size(), 1, 8, 8});
  d.name = "digits";
  return {std::move(d), std::nullopt};
}

// A file that may be stored plain or gzip-compressed.
std::optional<fs::path> plain_or_gz(const fs::path& dir, const std::string& file) {
  if (is_file(dir / file)) return dir / file;
  if (is_file(dir / (file + ".gz"))) return dir / (file + ".gz");
  return std::nullopt;
}

LoadedData load_fashion_mnist(const DataRequest& r) {
  std::vector<fs::path> looked_in;
  for (const auto& d : data_search_path(r.data_dir)) {
    looked_in.push_back(d / "fashion-mnist");
    looked_in.push_back(d);
  }
  looked_in.emplace_back("/usr/share/datasets/fashion-mnist");  // Debian's dataset-fashion-mnist
  for (const auto& dir : looked_in) {
    const auto train_images = plain_or_gz(dir, "train-images-idx3-ubyte");
    const auto train_labels = plain_or_gz(dir, "train-labels-idx1-ubyte");
    const auto test_images = plain_or_gz(dir, "t10k-images-idx3-ubyte");
    const auto test_labels = plain_or_gz(dir, "t10k-labels-idx1-ubyte");
    if (!train_images || !train_labels || !test_images || !test_labels) continue;
    const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    LoadedData out{read_idx(*train_images, *train_labels), read_idx(*test_images, *test_labels)};
    for (Dataset* d : {&out.train, &*out.test}) {
      d->name = "fashion-mnist";
      d->class_names = names;
      for (auto l : d->labels)
        if (l >= 10) throw Error("label " + std::to_string(l) + " is not a Fashion-MNIST class (0..9)", {dir.string(), 0, ""});
    }
    return out;
  }
  missing("fashion-mnist", "train-/t10k- images-idx3 and labels-idx1 files", looked_in);
}

LoadedData load_cifar10(const DataRequest& r) {
  std::vector<fs::path> looked_in;
  for (const auto& d : data_search_path(r.data_dir)) {
    looked_in.push_back(d / "cifar-10-batches-bin");
    looked_in.push_back(d);
  }
  for (const auto& dir : looked_in) {
    if (!is_file(dir / "data_batch_1.bin") || !is_file(dir / "test_batch.bin")) continue;
    LoadedData out{read_cifar10(dir, true), read_cifar10(dir, false)};
    out.train.name = "cifar10";
    out.test->name = "cifar10";
    return out;
  }
  missing("cifar10", "data_batch_1..5.bin and test_batch.bin", looked_in);
}

constexpr auto kBuiltins = std::to_array<BuiltinInfo>({
    {"iris", "Fisher's iris: 150 x 4 measurements (cm), 3 species of 50",
                "Bundled with adakit (data/iris.csv); or set ADAKIT_DATA to a directory holding iris.csv", &load_iris},
    {"iris-binary", "iris restricted to setosa and versicolor: 100 x 4, 2 classes (linearly separable)",
                "Bundled with adakit (data/iris.csv); or set ADAKIT_DATA to a directory holding iris.csv",
                &load_iris_binary},
    {"digits", "UCI optdigits test set: 1797 images 1 x 8 x 8 in [0, 1] (counts / 16), 10 classes",
                "Bundled with adakit (data/digits.csv.gz); or set ADAKIT_DATA to a directory holding digits.csv.gz",
                &load_digits},
    {"fashion-mnist",
                "Zalando's Fashion-MNIST: 60000 + 10000 images 1 x 28 x 28 in [0, 1], 10 classes, fixed test split",
                "Install it with 'apt-get install dataset-fashion-mnist', or put the four *-ubyte[.gz] files in "
                "$ADAKIT_DATA/fashion-mnist or in the --data-dir directory",
                &load_fashion_mnist},
    {"cifar10", "CIFAR-10: 50000 + 10000 colour images 3 x 32 x 32 in [0, 1], 10 classes, fixed test split",
                "Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extract it into $ADAKIT_DATA "
                "or the --data-dir directory (it unpacks to cifar-10-batches-bin/)",
                &load_cifar10},
});
static_assert(kBuiltins.size() == 5, "a new built-in dataset needs its tests (tests/data) and docs");
constexpr Registry<BuiltinInfo> kRegistry{
    kBuiltins, {"unknown dataset '{name}': not a built-in ({names}) nor an existing CSV file", "dataset"}};
static_assert(kRegistry.names_are_unique(), "two built-in datasets share a name");

const BuiltinInfo& info(std::string_view name) {
  if (const BuiltinInfo* b = kRegistry.find(name)) return *b;
  throw Error("internal: no built-in dataset '" + std::string(name) + "'");
}

}  // namespace

std::span<const BuiltinInfo> builtin_datasets() { return kBuiltins; }

const BuiltinInfo* find_builtin(std::string_view name) { return kRegistry.find(name); }

std::vector<fs::path> data_search_path(const fs::path& data_dir) {
  std::vector<fs::path> dirs;
  if (!data_dir.empty()) dirs.push_back(data_dir);
  if (const char* env = std::getenv("ADAKIT_DATA"); env != nullptr && *env != '\0') dirs.emplace_back(env);
#ifdef ADAKIT_INSTALLED_DATA_DIR
  dirs.emplace_back(ADAKIT_INSTALLED_DATA_DIR);
#endif
  if (const fs::path bundled = ADAKIT_BUNDLED_DATA_DIR; !bundled.empty()) dirs.push_back(bundled);
  return dirs;
}

LoadedData load_data(const DataRequest& request) {
  if (const BuiltinInfo* b = kRegistry.find(request.name_or_path)) return b->load(request);
  const fs::path path = request.name_or_path;
  if (!request.name_or_path.empty() && is_file(path)) return {read_csv(path, request.csv), std::nullopt};
  kRegistry.throw_unknown(request.name_or_path);
}

std::string builtin_names() {
  std::string names;
  for (const auto& b : builtin_datasets()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  return names;
}

}  // namespace adakit::data
