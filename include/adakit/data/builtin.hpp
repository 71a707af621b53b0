// Built-in datasets by name (iris, digits, fashion-mnist, cifar10, ...) and the data search path.
// The table in src/data/builtin.cpp is the single list of names; --help and docs walk builtin_datasets().
#pragma once
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/dataset.hpp"
#include "adakit/data/readers.hpp"

namespace adakit::data {

struct DataRequest {
  std::string name_or_path;          // a built-in name, else a path to a CSV file (.csv or .csv.gz)
  std::filesystem::path data_dir;    // searched first (e.g. the CLI's --data-dir); may be empty
  CsvOptions csv;                    // for a CSV path
};

struct LoadedData {
  Dataset train;
  std::optional<Dataset> test;       // present when the source has a fixed test split
};

struct BuiltinInfo {
  std::string_view name;
  std::string_view summary;          // one line: what it is, its shape and classes
  std::string_view how_to_get;       // "bundled with adakit", or how to install / download it
  LoadedData (*load)(const DataRequest& request);
};

// Every built-in dataset, in a fixed order.
std::span<const BuiltinInfo> builtin_datasets();
// The entry with this name, or nullptr.
const BuiltinInfo* find_builtin(std::string_view name);
// The names of builtin_datasets(), in order, joined by ", ".
std::string builtin_names();

// Loads a built-in by name, else reads name_or_path as a CSV file (no fixed test split).
// MissingDataError when a built-in's files are not found (what() says how to get them);
// UsageError when the name is neither a built-in nor an existing file.
LoadedData load_data(const DataRequest& request);

// Where built-in datasets are looked for, in order: data_dir (if not empty), $ADAKIT_DATA (if set),
// the installed share/adakit/data directory (when the build defines one), the bundled data/ directory.
// Directories are listed whether or not they exist. Fashion-MNIST is also looked for in the Debian
// package's /usr/share/datasets/fashion-mnist.
std::vector<std::filesystem::path> data_search_path(const std::filesystem::path& data_dir);

}  // namespace adakit::data
