#include "adakit/data/prepare.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/data/builtin.hpp"

namespace adakit::data {

void align_labels(std::vector<std::int32_t>& labels, std::vector<std::string>& class_names,
                  const std::vector<std::string>& names, const std::string& source, LabelSets* label_sets) {
  if (class_names == names) return;
  std::map<std::string, std::int32_t> id;
  for (std::size_t i = 0; i < names.size(); ++i) id[names[i]] = static_cast<std::int32_t>(i);
  // The new id of each class the data name (an error only for a class a row has).
  std::vector<std::int32_t> new_id(class_names.size(), -1);
  for (std::size_t c = 0; c < class_names.size(); ++c)
    if (const auto it = id.find(class_names[c]); it != id.end()) new_id[c] = it->second;
  const auto renumber = [&](std::int32_t l) {
    const std::int32_t to = new_id.at(static_cast<std::size_t>(l));
    if (to < 0)
      throw Error("class '" + class_names[static_cast<std::size_t>(l)] + "' does not occur in the training data",
                  {source, 0, "label"});
    return to;
  };
  if (label_sets != nullptr && !label_sets->empty()) {  // each set renumbered, kept increasing; labels its first
    for (const std::int32_t l : label_sets->ids) (void)renumber(l);
    label_sets->renumber(new_id, labels);
  } else {
    for (auto& l : labels) l = renumber(l);
  }
  class_names = names;
}

std::string_view guess_format(std::string_view name) {
  for (auto n : text_builtin_names())
    if (n == name) return "text-tsv";
  for (std::string_view ext : {".tsv", ".tsv.gz"})
    if (name.ends_with(ext)) return "text-tsv";
  for (std::string_view ext : {".svm", ".libsvm", ".svmlight", ".svm.gz", ".libsvm.gz"})
    if (name.ends_with(ext)) return "libsvm";
  return "dense";
}

std::string resolve_format(const std::string& format, std::string_view name_or_path) {
  if (format == "dense" || format == "libsvm" || format == "text-tsv") return format;
  if (format != "auto") throw UsageError("--format must be auto, dense, libsvm or text-tsv", {"", 0, "format"});
  return std::string(guess_format(name_or_path));
}

TextDataset load_text(const std::string& name, const std::filesystem::path& data_dir, bool weight_column,
                      bool multilabel) {
  const auto names = text_builtin_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    if (weight_column)
      throw UsageError("the bundled text dataset '" + name + "' has no weight column", {"", 0, "weight-column"});
    return load_text_builtin(name, data_dir);
  }
  return read_text_tsv(name, weight_column, multilabel);
}

std::vector<float> read_weights(const std::filesystem::path& path, std::int64_t rows) {
  const std::string text = read_file_bytes(path);
  std::vector<float> out;
  std::string_view rest = text;
  std::int64_t line_no = 0;
  while (!rest.empty()) {
    ++line_no;
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    double v = 0.0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
    if (ec != std::errc() || end != line.data() + line.size() || !std::isfinite(v) || v < 0.0 ||
        !std::isfinite(static_cast<float>(v)))
      throw Error("weight '" + std::string(line) + "' is not a finite number >= 0", {path.string(), line_no, "weight"});
    if (static_cast<std::int64_t>(out.size()) == rows)
      throw Error("more weights than the " + std::to_string(rows) + " rows of the training data",
                  {path.string(), line_no, "weight"});
    out.push_back(static_cast<float>(v));
  }
  if (static_cast<std::int64_t>(out.size()) != rows)
    throw Error(std::to_string(out.size()) + " weights for the " + std::to_string(rows) + " rows of the training data",
                {path.string(), 0, "weight"});
  return out;
}

SparseDataset vectorize(const TextDataset& t, const TextVectorizer& vectorizer) {
  SparseDataset d;
  d.name = t.name;
  d.features = vectorizer.transform(t.texts);
  d.labels = t.labels;
  d.class_names = t.class_names;
  d.weights = t.weights;
  d.label_sets = t.label_sets;
  return d;
}

void keep_columns(CsrMatrix& x, const std::function<bool(std::int32_t)>& keep, std::int64_t cols) {
  CsrMatrix out;
  out.cols = cols;
  out.rows = 0;
  std::vector<std::int32_t> idx;
  std::vector<float> val;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    idx.clear();
    val.clear();
    const auto ri = x.row_indices(r);
    const auto rv = x.row_values(r);
    for (std::size_t k = 0; k < ri.size(); ++k)
      if (keep(ri[k])) {
        idx.push_back(ri[k]);
        val.push_back(rv[k]);
      }
    out.add_row(idx, val);
  }
  x = std::move(out);
}

void fit_columns(CsrMatrix& x, std::int64_t dim) {
  if (x.cols <= dim) {
    x.cols = dim;
    return;
  }
  keep_columns(x, [dim](std::int32_t c) { return c < dim; }, dim);
}

namespace {

// The training data and the test data of `o`: the test file when one is given (read by `load`, checked
// against the training data by `check`, its classes renumbered as the training data's), else a seeded
// stratified split of `data`.
template <class D, class Load, class Check>
std::pair<D, D> train_and_test(const PrepareOptions& o, Load load, Check check) {
  D all = load(o.data);
  if (!o.weights_file.empty()) {
    if (!all.weights.empty())
      throw UsageError("the training data carry their own weights: give --weights or weights in the file, not both",
                       {o.weights_file.string(), 0, "weights"});
    all.weights = read_weights(o.weights_file, all.size());
  }
  if (!o.test_data.empty()) {
    D test = load(o.test_data);
    check(all, test);
    bool labelled = true;
    if constexpr (requires { test.is_classification(); }) labelled = test.is_classification();
    if (labelled && o.align_test_labels)
      align_labels(test.labels, test.class_names, all.class_names, o.test_data, &test.label_sets);
    return {std::move(all), std::move(test)};
  }
  const auto rows = split_rows(all.size(), all.labels, o.test_split, o.seed);
  return {all.subset(rows.train_rows), all.subset(rows.test_rows)};
}

bool is_image(const Dataset& d) { return d.sample_shape().size() == 3; }

}  // namespace

PreparedData prepare_data(const PrepareOptions& o) {
  PreparedData out;
  LoadedData loaded = load_data({o.data, o.data_dir, o.csv});
  out.train = std::move(loaded.train);
  if (!o.test_data.empty()) {
    out.test = load_data({o.test_data, o.data_dir, o.csv}).train;
    if (o.align_test_labels && out.test.is_classification())
      align_labels(out.test.labels, out.test.class_names, out.train.class_names, o.test_data);
  } else if (loaded.test) {
    out.test = std::move(*loaded.test);
  } else {
    auto split = train_test_split(out.train, o.test_split, o.seed);
    out.train = std::move(split.train);
    out.test = std::move(split.test);
  }
  if (o.validation_split > 0.0) {
    auto split = train_test_split(out.train, o.validation_split, o.seed + 1);
    out.train = std::move(split.train);
    out.validation = std::move(split.test);
  }
  if (o.scale != "on" && o.scale != "off" && o.scale != "auto")
    throw UsageError("--scale must be auto, on or off", {"", 0, "scale"});
  if (o.scale == "on" || (o.scale == "auto" && !is_image(out.train))) {
    out.scaler.fit(out.train);  // the training split only
    out.scaler.transform(out.train);
    if (out.test.size() > 0) out.scaler.transform(out.test);
    if (out.validation.size() > 0) out.scaler.transform(out.validation);
  }
  return out;
}

PreparedSparseData prepare_sparse_data(const PrepareOptions& o) {
  PreparedSparseData out;
  if (o.text || o.continue_vectorizer) {
    auto [train, test] = train_and_test<TextDataset>(
        o, [&](const std::string& s) { return load_text(s, o.data_dir, o.weight_column, o.multilabel); },
        [](const auto&, const auto&) {});
    if (o.continue_vectorizer) {
      out.vectorizer = o.continue_vectorizer;
      if (o.grow_vocabulary && out.vectorizer->can_grow()) out.new_of_old = out.vectorizer->grow(train.texts);
    } else {
      out.vectorizer.emplace(*o.text);
      out.vectorizer->fit(train.texts);  // vocabulary and idf from the training split only
    }
    out.train = vectorize(train, *out.vectorizer);
    out.test = vectorize(test, *out.vectorizer);
    if (o.keep_train_texts) out.train_texts = std::move(train.texts);
    if (o.keep_test_texts) out.test_texts = std::move(test.texts);
    return out;
  }
  const auto same_columns = [&](SparseDataset& train, SparseDataset& test) {
    if (train.is_classification() != test.is_classification())
      throw UsageError("the test file has " + std::string(test.is_classification() ? "class labels" : "numeric targets") +
                           ", the training file does not",
                       {o.test_data, 0, "label"});
    const std::int64_t dim = std::max(train.features.cols, test.features.cols);
    train.features.cols = dim;
    test.features.cols = dim;
  };
  if (o.weight_column)
    throw UsageError("--weight-column is for text (label<TAB>weight<TAB>text); LIBSVM lines carry label:weight",
                     {"", 0, "weight-column"});
  LibsvmOptions libsvm = o.libsvm;
  libsvm.multilabel = libsvm.multilabel || o.multilabel;
  std::tie(out.train, out.test) = train_and_test<SparseDataset>(
      o, [&](const std::string& s) { return read_libsvm(s, libsvm); }, same_columns);
  return out;
}

}  // namespace adakit::data
