// adakit._adakit linear models: linear::LinearModel, trained by linear::fit with any optimizer of
// linear/registry.hpp, over CSR arrays viewed in place (data::CsrView over scipy.sparse's indptr,
// indices and data). The GIL is released while training and scoring.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <string>

#include "adakit/data/sparse.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/registry.hpp"
#include "arrays.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

using linear::LinearModel;

// (rows, cols, indptr, indices, data): indptr int64 or int32, indices int32, data float32, all 1-D and
// C-contiguous. The arrays stay owned by the tuple's caller; the view reads them in place.
struct Csr {
  py::array indptr, indices, data;  // keep the arrays alive while the view is used
  data::CsrView view;
};

Csr csr_from(const py::tuple& x) {
  if (x.size() != 5) throw py::value_error("CSR matrix: expected (rows, cols, indptr, indices, data)");
  Csr c;
  c.view.rows = x[0].cast<std::int64_t>();
  c.view.cols = x[1].cast<std::int64_t>();
  c.indptr = as_array(x[2], "X.indptr");
  c.indices = as_array(x[3], "X.indices");
  c.data = as_array(x[4], "X.data");
  if (has_dtype<std::int32_t>(c.indptr)) c.view.indptr32 = span_1d<std::int32_t>(c.indptr, "X.indptr");
  else c.view.indptr = span_1d<std::int64_t>(c.indptr, "X.indptr");
  c.view.indices = span_1d<std::int32_t>(c.indices, "X.indices");
  c.view.values = span_1d<float>(c.data, "X.data");
  return c;
}

py::list history_list(const linear::FitResult& r) {
  py::list out;
  for (const auto& e : r.history) {
    py::dict d;
    d["epoch"] = e.epoch;
    d["loss"] = e.train.loss;
    d["accuracy"] = e.train.accuracy;
    d["mse"] = e.train.mse;
    d["seconds"] = e.seconds;
    out.append(d);
  }
  return out;
}

py::array_t<float> model_array(py::object self, std::span<float> values, std::vector<py::ssize_t> shape) {
  // A view of the model's memory; `self` stays alive as long as the view does.
  return py::array_t<float>(shape, values.data(), self);
}

data::SparseDataView labelled_view(const Csr& c, const py::object& labels, const py::object& targets, py::array& keep) {
  data::SparseDataView d;
  d.name = "X";
  d.features = c.view;
  if (!labels.is_none()) {
    keep = as_array(labels, "y");
    d.labels = span_1d<std::int32_t>(keep, "y");
  } else if (!targets.is_none()) {
    keep = as_array(targets, "y");
    d.targets = span_1d<float>(keep, "y");
  }
  return d;
}

// The weights [dim, outputs], copied out of the model's table (which also holds optimizer state and is
// laid out again when an optimizer binds, so a view could outlive its memory).
py::array_t<float> weight_array(const LinearModel& lm) {
  py::array_t<float> out({lm.dim(), lm.outputs()});
  float* dst = out.mutable_data();
  for (std::int64_t j = 0; j < lm.dim(); ++j) {
    const auto w = lm.weight_row(j);
    std::copy(w.begin(), w.end(), dst + j * lm.outputs());
  }
  return out;
}

}  // namespace

void bind_linear(py::module_& m) {
  py::class_<LinearModel>(m, "LinearModel",
                          "Sparse linear model (linear/model.hpp): W [dim, outputs] by feature, bias [outputs]")
      .def(py::init([](const std::string& task, std::int64_t dim, std::int64_t classes, bool fit_bias) {
             return LinearModel(linear::linear_task_from_string(task), dim, classes, fit_bias);
           }),
           py::arg("task"), py::arg("dim"), py::arg("classes") = 2, py::arg("fit_bias") = true)
      .def_property_readonly("task", [](const LinearModel& lm) { return std::string(linear::to_string(lm.task())); })
      .def_property_readonly("dim", &LinearModel::dim)
      .def_property_readonly("outputs", &LinearModel::outputs)
      .def_property_readonly("classes", &LinearModel::classes)
      .def_property_readonly("fit_bias", &LinearModel::fit_bias)
      .def_property_readonly("weights", &weight_array, "a copy of W [dim, outputs]")
      .def_property_readonly("bias",
                             [](py::object self) {
                               auto& lm = self.cast<LinearModel&>();
                               return model_array(self, lm.bias(), {lm.outputs()});
                             })
      .def("count_nonzero_weights", &LinearModel::count_nonzero_weights)
      .def(py::pickle(
          [](const LinearModel& lm) {
            const py::array_t<float> w = weight_array(lm);
            return py::make_tuple(std::string(linear::to_string(lm.task())), lm.dim(),
                                  lm.classes() > 0 ? lm.classes() : std::int64_t{2}, lm.fit_bias(),
                                  py::bytes(reinterpret_cast<const char*>(w.data()), static_cast<std::size_t>(w.nbytes())),
                                  py::bytes(reinterpret_cast<const char*>(lm.bias().data()), lm.bias().size_bytes()));
          },
          [](const py::tuple& t) {
            LinearModel lm(linear::linear_task_from_string(t[0].cast<std::string>()), t[1].cast<std::int64_t>(),
                           t[2].cast<std::int64_t>(), t[3].cast<bool>());
            const auto w = t[4].cast<std::string>(), b = t[5].cast<std::string>();
            if (w.size() != lm.weights().size() * sizeof(float) || b.size() != lm.bias().size_bytes())
              throw py::value_error("LinearModel: pickled weights do not fit the model's shape");
            for (std::int64_t j = 0; j < lm.dim(); ++j)
              std::memcpy(lm.weight_row(j).data(), w.data() + j * lm.outputs() * std::int64_t{sizeof(float)},
                          static_cast<std::size_t>(lm.outputs()) * sizeof(float));
            std::memcpy(lm.bias().data(), b.data(), b.size());
            return lm;
          }));

  m.def(
      "linear_fit",
      [](LinearModel& model, const std::string& optimizer, const py::dict& options, const py::tuple& x,
         const py::object& labels, const py::object& targets, std::int64_t epochs, std::int64_t batch_size,
         std::uint64_t seed, bool shuffle, int threads) {
        const Csr c = csr_from(x);
        py::array y;
        data::SparseDataView d = labelled_view(c, labels, targets, y);
        auto opt = linear::make_linear_optimizer(optimizer, option_map(options));
        linear::FitResult result;
        {
          py::gil_scoped_release nogil;
          ThreadScope scope(threads);
          d.features.validate();
          result = linear::fit(model, *opt, d, {.epochs = epochs, .batch_size = batch_size, .seed = seed, .shuffle = shuffle});
        }
        return history_list(result);
      },
      py::arg("model"), py::arg("optimizer"), py::arg("options"), py::arg("X"), py::arg("labels") = py::none(),
      py::arg("targets") = py::none(), py::arg("epochs") = 5, py::arg("batch_size") = 1, py::arg("seed") = 0,
      py::arg("shuffle") = true, py::arg("threads") = 0,
      "Trains `model` in place (linear::fit) on the CSR matrix X = (rows, cols, indptr, indices, data) with "
      "int32 class labels or float32 regression targets; returns the per-epoch progressive metrics.");

  m.def(
      "linear_decision_function",
      [](const LinearModel& model, const py::tuple& x) {
        const Csr c = csr_from(x);
        Tensor z;
        {
          py::gil_scoped_release nogil;
          c.view.validate();
          z = linear::decision_function(model, c.view);
        }
        return to_numpy(std::move(z));
      },
      py::arg("model"), py::arg("X"), "Scores Wᵀx + b of every row: [rows, outputs]");

  m.def(
      "linear_predict_proba",
      [](const LinearModel& model, const py::tuple& x) {
        const Csr c = csr_from(x);
        Tensor p;
        {
          py::gil_scoped_release nogil;
          c.view.validate();
          p = linear::predict_proba(model, c.view);
        }
        return to_numpy(std::move(p));
      },
      py::arg("model"), py::arg("X"), "Class probabilities of every row: [rows, classes]");

  m.def(
      "linear_evaluate",
      [](const LinearModel& model, const py::tuple& x, const py::object& labels, const py::object& targets) {
        const Csr c = csr_from(x);
        py::array y;
        const data::SparseDataView d = labelled_view(c, labels, targets, y);
        linear::Metrics r;
        {
          py::gil_scoped_release nogil;
          d.features.validate();
          r = linear::evaluate(model, d);
        }
        py::dict out;
        out["loss"] = r.loss;
        out["accuracy"] = r.accuracy;
        out["mse"] = r.mse;
        out["samples"] = r.samples;
        return out;
      },
      py::arg("model"), py::arg("X"), py::arg("labels") = py::none(), py::arg("targets") = py::none(),
      "linear::evaluate: {loss, accuracy, mse, samples} over the rows of X (NaN where it does not apply)");

  m.def(
      "linear_model_for_dataset",
      [](const data::SparseDataset& d, std::int64_t dim, const std::string& task) {
        return LinearModel::for_dataset(d, dim, task);
      },
      py::arg("data"), py::arg("dim") = 0, py::arg("task") = "auto",
      "LinearModel::for_dataset: the task from the data (auto) or asked for (logreg, softmax, linreg); dim 0: "
      "the data's columns");

  m.def(
      "save_linear_model",
      [](const std::filesystem::path& path, const LinearModel& model, const data::TextVectorizer* vectorizer) {
        py::gil_scoped_release nogil;
        io::save_linear_model(path, model, vectorizer);
      },
      py::arg("path"), py::arg("model"), py::arg("vectorizer") = nullptr,
      "io::save_linear_model: the model file of `adakit train --save` (with a text model's vectorizer): binary "
      "(adakit.linear.model.v1, safetensors) unless the path ends in .json");

  m.def(
      "read_linear_model",
      [](const std::filesystem::path& path) {
        io::LinearModelFile f;
        {
          py::gil_scoped_release nogil;
          f = io::read_linear_model(path);
        }
        return py::make_tuple(std::move(f.model), f.vectorizer ? py::cast(std::move(*f.vectorizer)) : py::none());
      },
      py::arg("path"), "io::read_linear_model: (LinearModel, TextVectorizer or None) of a model file (binary or JSON) or a linear "
      "checkpoint");

  m.def(
      "linear_read_for_model",
      [](const LinearModel& model, const data::TextVectorizer* vectorizer, const std::string& source,
         const std::string& data_dir) {
        io::LinearModelFile f{model, vectorizer != nullptr ? std::optional(*vectorizer) : std::nullopt, nullptr};
        py::gil_scoped_release nogil;
        return io::read_for_model(f, source, data_dir);
      },
      py::arg("model"), py::arg("vectorizer"), py::arg("data"), py::arg("data_dir") = "",
      "io::read_for_model: a LIBSVM file cut to the model's columns, or text-tsv through its vectorizer");

  m.def("linear_optimizers", [] {
    py::list out;
    for (const auto& info : linear::linear_optimizers()) {
      py::list options;
      for (const auto& o : info.options()) options.append(py::make_tuple(o.key, option_value(o.default_value), o.help));
      out.append(py::make_tuple(std::string(info.name), std::string(info.summary), std::string(info.reference), options));
    }
    return out;
  }, "Every optimizer of the sparse linear models' registry: (name, summary, reference, [(option, default, help)])");
}

}  // namespace adakit::python
