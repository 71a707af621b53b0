// adakit._adakit data: data::Dataset (dense samples, what nn models train on) and data::SparseDataset
// (CSR rows, what the sparse linear models train on), the built-in datasets, and data::prepare_data /
// prepare_sparse_data: load, split, scale or vectorize as `adakit train` does. Arrays come back as
// NumPy views of the dataset's memory (the dataset stays alive as long as a view does).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "arrays.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

using data::Dataset;
using data::SparseDataset;

template <class T>
py::array_t<T> view_of(py::handle owner, const std::vector<T>& v) {
  return py::array_t<T>({static_cast<py::ssize_t>(v.size())}, v.data(), owner);
}

// A features tensor as a NumPy view tied to `owner`.
py::array_t<float> tensor_view(py::handle owner, const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  return py::array_t<float>(shape, t.data(), owner);
}

// A copy of any float32-convertible array as a Tensor (a dataset owns its samples).
Tensor tensor_copy(const py::object& obj, std::string_view what) {
  const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw py::type_error(std::string(what) + ": expected an array of numbers");
  std::vector<py::ssize_t> dims(a.shape(), a.shape() + a.ndim());
  Shape shape(dims.begin(), dims.end());
  return Tensor(shape, std::span<const float>(a.data(), static_cast<std::size_t>(a.size())));
}

Dataset make_dataset(const py::object& features, const py::object& labels, const py::object& targets,
                     std::vector<std::string> class_names, std::vector<std::string> feature_names, std::string name) {
  Dataset d;
  d.name = std::move(name);
  d.features = tensor_copy(features, "features");
  if (d.features.shape().empty()) throw py::value_error("features: expected an array [n, ...], got a scalar");
  const std::int64_t n = d.features.shape()[0];
  if (!labels.is_none() && !targets.is_none()) throw py::value_error("give labels (classes) or targets (regression), not both");
  if (!labels.is_none()) {
    const auto y = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>::ensure(labels);
    if (!y || y.ndim() != 1 || y.shape(0) != n)
      throw py::value_error("labels: expected " + std::to_string(n) + " integer class ids");
    d.labels.assign(y.data(), y.data() + n);
  } else if (!targets.is_none()) {
    d.targets = tensor_copy(targets, "targets");
    if (d.targets.shape().empty() || d.targets.shape()[0] != n)
      throw py::value_error("targets: expected " + std::to_string(n) + " rows");
  }  // neither: samples to predict (classification without labels)
  d.class_names = std::move(class_names);
  d.feature_names = std::move(feature_names);
  return d;
}

// (rows, cols, indptr int64, indices int32, data float32): the form linear_fit and the scikit-learn
// estimators take, as views of the dataset's arrays.
py::tuple csr_views(py::handle owner, const data::CsrMatrix& x) {
  return py::make_tuple(x.rows, x.cols, view_of(owner, x.indptr), view_of(owner, x.indices), view_of(owner, x.values));
}

// A view of a CSR tuple as a CsrMatrix copy (texts through a vectorizer come back the other way).
py::tuple csr_copy(const data::CsrMatrix& x) {
  auto copy = [](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    py::array_t<T> a({static_cast<py::ssize_t>(v.size())});
    if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
    return a;
  };
  return py::make_tuple(x.rows, x.cols, copy(x.indptr), copy(x.indices), copy(x.values));
}

data::PrepareOptions prepare_options(const std::string& source, const std::string& test_data, const std::string& data_dir,
                                     double test_split, std::uint64_t seed, const std::string& label_column) {
  data::PrepareOptions o;
  o.data = source;
  o.test_data = test_data;
  o.data_dir = data_dir;
  o.test_split = test_split;
  o.seed = seed;
  o.csv.label_column = label_column;
  return o;
}

data::TextVectorizerOptions vectorizer_options(std::int32_t ngram_min, std::int32_t ngram_max, std::int32_t hash_bits,
                                               const std::string& weighting, double min_df, std::int64_t max_features,
                                               bool lowercase) {
  data::TextVectorizerOptions o;
  o.lowercase = lowercase;
  o.ngram_min = ngram_min;
  o.ngram_max = ngram_max;
  o.hash_bits = hash_bits;
  if (weighting == "count") o.weighting = data::TextWeighting::count;
  else if (weighting == "binary") o.weighting = data::TextWeighting::binary;
  else if (weighting == "tfidf") o.weighting = data::TextWeighting::tfidf;
  else throw UsageError("weighting must be count, binary or tfidf, not '" + weighting + "'", {"", 0, "weighting"});
  o.min_df = min_df >= 1.0 ? data::DfThreshold::count(static_cast<std::int64_t>(min_df)) : data::DfThreshold::fraction(min_df);
  o.max_features = max_features;
  o.validate();  // UsageError naming the field
  return o;
}

}  // namespace

void bind_data(py::module_& m) {
  py::class_<Dataset>(m, "Dataset",
                      "data::Dataset: samples [n, ...] (float32) with class ids (int32) or regression targets")
      .def(py::init(&make_dataset), py::arg("features"), py::arg("labels") = py::none(), py::arg("targets") = py::none(),
           py::arg("class_names") = std::vector<std::string>{}, py::arg("feature_names") = std::vector<std::string>{},
           py::arg("name") = "data", "Copies the arrays into a new dataset")
      .def_readwrite("name", &Dataset::name)
      .def_property_readonly("features", [](py::object self) { return tensor_view(self, self.cast<Dataset&>().features); },
                             "a view [n, ...sample shape]")
      .def_property_readonly("labels",
                             [](py::object self) -> py::object {
                               const auto& d = self.cast<Dataset&>();
                               if (!d.is_classification()) return py::none();
                               return view_of(self, d.labels);
                             })
      .def_property_readonly("targets",
                             [](py::object self) -> py::object {
                               const auto& d = self.cast<Dataset&>();
                               if (d.is_classification()) return py::none();
                               return tensor_view(self, d.targets);
                             })
      .def_readwrite("class_names", &Dataset::class_names)
      .def_readwrite("feature_names", &Dataset::feature_names)
      .def_property_readonly("size", &Dataset::size)
      .def("__len__", &Dataset::size)
      .def_property_readonly("is_classification", &Dataset::is_classification)
      .def_property_readonly("num_classes", &Dataset::num_classes)
      .def_property_readonly("sample_shape", &Dataset::sample_shape)
      .def("subset", [](const Dataset& d, const std::vector<std::int64_t>& rows) { return d.subset(rows); }, py::arg("rows"))
      .def("__repr__", [](const Dataset& d) {
        return "adakit.data.Dataset(" + d.name + ": " + std::to_string(d.size()) + " samples of shape " +
               shape_to_string(d.sample_shape()) +
               (d.is_classification() ? ", " + std::to_string(d.num_classes()) + " classes)" : ", regression)");
      });

  // A float array where a Dataset is expected (Model.predict(X)): a dataset of those samples.
  py::implicitly_convertible<py::array, Dataset>();

  py::class_<data::PreparedData>(m, "PreparedData", "data::PreparedData: the splits and the scaler fitted on train")
      .def_readonly("train", &data::PreparedData::train)
      .def_readonly("test", &data::PreparedData::test)
      .def_readonly("validation", &data::PreparedData::validation)
      .def_property_readonly("scaler_mean", [](const data::PreparedData& p) { return p.scaler.mean; })
      .def_property_readonly("scaler_scale", [](const data::PreparedData& p) { return p.scaler.scale; });

  m.def(
      "prepare_data",
      [](const std::string& source, const std::string& test_data, const std::string& data_dir, double test_split,
         std::uint64_t seed, const std::string& label_column, double validation_split, const std::string& scale) {
        auto o = prepare_options(source, test_data, data_dir, test_split, seed, label_column);
        o.validation_split = validation_split;
        o.scale = scale;
        py::gil_scoped_release nogil;
        return data::prepare_data(o);
      },
      py::arg("data"), py::arg("test_data") = "", py::arg("data_dir") = "", py::arg("test_split") = 0.2,
      py::arg("seed") = 0, py::arg("label_column") = "", py::arg("validation_split") = 0.0, py::arg("scale") = "auto",
      "data::prepare_data: a built-in dataset or a CSV file, split (seeded, stratified) and scaled as `adakit train` does");

  m.def(
      "load_data",
      [](const std::string& source, const std::string& data_dir, const std::string& label_column) {
        data::DataRequest r;
        r.name_or_path = source;
        r.data_dir = data_dir;
        r.csv.label_column = label_column;
        data::LoadedData loaded;
        {
          py::gil_scoped_release nogil;
          loaded = data::load_data(r);
        }
        return py::make_tuple(std::move(loaded.train), loaded.test ? py::cast(std::move(*loaded.test)) : py::none());
      },
      py::arg("data"), py::arg("data_dir") = "", py::arg("label_column") = "",
      "data::load_data: (train, test or None), unsplit and unscaled");

  m.def(
      "builtin_datasets",
      [] {
        py::list out;
        for (const auto& b : data::builtin_datasets())
          out.append(py::make_tuple(std::string(b.name), std::string(b.summary), std::string(b.how_to_get)));
        return out;
      },
      "(name, summary, how to get it) of every built-in dataset");
  m.def("guess_format", [](const std::string& name) { return std::string(data::guess_format(name)); }, py::arg("name"),
        "data::guess_format: 'text-tsv', 'libsvm' or 'dense' from a source's name");

  py::class_<data::TextVectorizer>(m, "TextVectorizer", "data::TextVectorizer: texts -> CSR rows (counts, binary, tf-idf)")
      .def(py::init([](std::int32_t ngram_min, std::int32_t ngram_max, std::int32_t hash_bits, const std::string& weighting,
                       double min_df, std::int64_t max_features, bool lowercase) {
             return data::TextVectorizer(
                 vectorizer_options(ngram_min, ngram_max, hash_bits, weighting, min_df, max_features, lowercase));
           }),
           py::arg("ngram_min") = 1, py::arg("ngram_max") = 1, py::arg("hash_bits") = 0, py::arg("weighting") = "count",
           py::arg("min_df") = 1.0, py::arg("max_features") = 0, py::arg("lowercase") = true)
      .def("fit", [](data::TextVectorizer& v, const std::vector<std::string>& texts) { v.fit(texts); }, py::arg("texts"))
      .def("transform", [](const data::TextVectorizer& v, const std::vector<std::string>& texts) { return csr_copy(v.transform(texts)); },
           py::arg("texts"), "(rows, cols, indptr, indices, data) of the texts")
      .def_property_readonly("num_features", &data::TextVectorizer::num_features)
      .def_property_readonly("feature_names", &data::TextVectorizer::feature_names);

  py::class_<SparseDataset>(m, "SparseDataset", "data::SparseDataset: CSR rows with class ids or regression targets")
      .def_readonly("name", &SparseDataset::name)
      .def_property_readonly("X", [](py::object self) { return csr_views(self, self.cast<SparseDataset&>().features); },
                             "(rows, cols, indptr, indices, data): views, the form linear_fit takes")
      .def_property_readonly("labels",
                             [](py::object self) -> py::object {
                               const auto& d = self.cast<SparseDataset&>();
                               return d.is_classification() ? py::object(view_of(self, d.labels)) : py::none();
                             })
      .def_property_readonly("targets",
                             [](py::object self) -> py::object {
                               const auto& d = self.cast<SparseDataset&>();
                               return d.is_classification() ? py::none() : py::object(view_of(self, d.targets));
                             })
      .def_readonly("class_names", &SparseDataset::class_names)
      .def_property_readonly("size", &SparseDataset::size)
      .def("__len__", &SparseDataset::size)
      .def_property_readonly("is_classification", &SparseDataset::is_classification)
      .def_property_readonly("num_classes", &SparseDataset::num_classes);

  py::class_<data::PreparedSparseData>(m, "PreparedSparseData", "data::PreparedSparseData: train, test, the text vectorizer")
      .def_readonly("train", &data::PreparedSparseData::train)
      .def_readonly("test", &data::PreparedSparseData::test)
      .def_property_readonly("vectorizer", [](const data::PreparedSparseData& p) -> py::object {
        return p.vectorizer ? py::cast(*p.vectorizer) : py::none();
      });

  m.def(
      "prepare_sparse_data",
      [](const std::string& source, const std::string& test_data, const std::string& data_dir, double test_split,
         std::uint64_t seed, const std::string& format, const std::string& task, const py::object& text) {
        auto o = prepare_options(source, test_data, data_dir, test_split, seed, "");
        const std::string fmt = format == "auto" ? std::string(data::guess_format(source)) : format;
        if (fmt == "text-tsv") {
          o.text = text.is_none() ? data::TextVectorizerOptions{} : text.cast<const data::TextVectorizer&>().options();
        } else if (fmt != "libsvm") {
          throw UsageError("prepare_sparse_data reads libsvm or text-tsv data, not '" + fmt + "'", {"", 0, "format"});
        }
        if (task == "classification") o.libsvm.task = data::LibsvmOptions::Task::classification;
        else if (task == "regression") o.libsvm.task = data::LibsvmOptions::Task::regression;
        else if (task != "auto") throw UsageError("task must be auto, classification or regression", {"", 0, "task"});
        o.libsvm.max_index = std::int64_t{1} << 27;  // as adakit train: a corrupted index is an error, not a huge model
        py::gil_scoped_release nogil;
        return data::prepare_sparse_data(o);
      },
      py::arg("data"), py::arg("test_data") = "", py::arg("data_dir") = "", py::arg("test_split") = 0.2,
      py::arg("seed") = 0, py::arg("format") = "auto", py::arg("task") = "auto", py::arg("text") = py::none(),
      "data::prepare_sparse_data: a LIBSVM file or a text-tsv source (`text`: a TextVectorizer whose options "
      "are used, fitted on the training split), split as `adakit train` does");
}

}  // namespace adakit::python
