// adakit._adakit linear models: linear::LinearModel, trained by linear::fit with any optimizer of
// linear/registry.hpp, over CSR arrays viewed in place (data::CsrView over scipy.sparse's indptr,
// indices and data); LinearLearner, a model and its optimizer kept together so that training
// continues across calls (adakit.sklearn's partial_fit and warm_start). The GIL is released while
// training and scoring.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <memory>
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


// Copies of the optimizer's state tensors (LinearOptimizerState) as float32 arrays, bits as they are
// (the lazy optimizers' "weight.last_step" holds int64 step counts in pairs of floats).
py::dict state_arrays(const linear::LinearOptimizerState& s) {
  py::dict out;
  for (const auto& [name, t] : s.tensors) out[py::str(name)] = copy_to_numpy(t);
  return out;
}

linear::LinearOptimizerState state_from_arrays(const py::dict& arrays, std::int64_t steps, std::int64_t touched) {
  linear::LinearOptimizerState s;
  s.steps = steps;
  s.touched = touched;
  for (const auto& [k, v] : arrays) {
    const auto name = py::str(k).cast<std::string>();
    const py::array a = as_array(v, name);
    const float* src = float32_data(a, name, /*writable=*/false);
    s.tensors.emplace(name, Tensor(shape_of(a), std::span<const float>(src, static_cast<std::size_t>(a.size()))));
  }
  return s;
}

// A LinearModel and the optimizer bound to it, kept together between calls so that training goes on
// from where the last call left it: the weights and the optimizer's state (accumulators, step count).
// The model is the LIVE one: a lazy optimizer (adagrad-l1 and sgd with l1 or l2, adagrad-rda) leaves
// the weights of features not seen lately behind, and brings them up to date when it next touches
// them; snapshot() is a synced copy to predict with.
class PyLinearLearner {
 public:
  PyLinearLearner(LinearModel model, const std::string& optimizer, const optim::OptionMap& options)
      : model_(std::move(model)), opt_(linear::make_linear_optimizer(optimizer, options)) {}

  // New options for the same optimizer. When they differ, a new optimizer takes over the state as it
  // is (LinearOptimizer::state / load_state: exact copies), so the next call continues with them.
  void set_options(const py::dict& options) {
    auto fresh = linear::make_linear_optimizer(opt_->name(), option_map(options));
    if (fresh->option_map() == opt_->option_map()) return;
    if (opt_->bound()) fresh->load_state(model_, opt_->state(model_));
    opt_ = std::move(fresh);
  }

  // linear::fit from where the learner stands: `epochs` epochs in seeded-shuffled (or row) order,
  // WITHOUT syncing the model (FitOptions::sync = false): the lazy weights stay as the optimizer left
  // them, so that the next call goes on exactly as one longer run would. (A sync in between would
  // catch up adagrad-l1's and sgd's L1/L2 shrinkage in two closed-form pieces instead of one, which
  // rounds differently.) partial_fit is one epoch in row order. Returns the per-epoch metrics.
  // `weights`: None, or one importance weight per row (float32; finite, >= 0: FitOptions' weighted rows).
  py::list fit(const py::tuple& x, const py::object& labels, const py::object& targets, std::int64_t epochs,
               std::int64_t batch_size, std::uint64_t seed, bool shuffle, int threads, const py::object& weights) {
    const Csr c = csr_from(x);
    py::array y, w;
    data::SparseDataView d = labelled_view(c, labels, targets, y);
    if (!weights.is_none()) {
      w = as_array(weights, "sample_weight");
      d.weights = span_1d<float>(w, "sample_weight");
      if (static_cast<std::int64_t>(d.weights.size()) != d.size())
        throw py::value_error("sample_weight has " + std::to_string(d.weights.size()) + " entries for " +
                              std::to_string(d.size()) + " rows");
    }
    linear::FitResult result;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      d.features.validate();
      result = linear::fit(model_, *opt_, d,
                           {.epochs = epochs, .batch_size = batch_size, .seed = seed, .shuffle = shuffle, .sync = false});
    }
    return history_list(result);
  }

  // Brings every weight of the live model up to date (LinearOptimizer::sync; O(dim)). Training goes on
  // from there, though no longer bit for bit as a run without this sync.
  void sync() {
    py::gil_scoped_release nogil;
    if (opt_->bound()) opt_->sync(model_);
  }

  // A copy of the model with every weight brought up to date (LinearOptimizer::sync on the copy, which
  // changes neither the optimizer nor the live model) and without the optimizer's state: what
  // predicting, coef_ and model files need.
  LinearModel snapshot() const {
    py::gil_scoped_release nogil;
    LinearModel m = model_;
    if (opt_->bound()) opt_->sync(m);
    m.reserve_state(0, 0);
    return m;
  }

  const LinearModel& model() const noexcept { return model_; }
  std::string optimizer() const { return std::string(opt_->name()); }
  py::dict options() const { return option_dict(opt_->option_map()); }
  std::int64_t steps() const noexcept { return opt_->steps(); }

  // {"steps", "touched", "tensors": {name: array}} (LinearOptimizerState; None before the first pass).
  py::object state() const {
    if (!opt_->bound()) return py::none();
    const linear::LinearOptimizerState s = opt_->state(model_);
    py::dict out;
    out["steps"] = s.steps;
    out["touched"] = s.touched;
    out["tensors"] = state_arrays(s);
    return out;
  }

  // Pickling: the live model (LinearModel's pickle: its weights as they are), the optimizer's name and
  // options as text, and its state, so that an unpickled learner continues bit for bit.
  py::tuple getstate() const {
    py::dict texts;
    for (const auto& [k, v] : opt_->option_map()) texts[py::str(k)] = v;
    return py::make_tuple(py::cast(model_), optimizer(), texts, state());
  }

  static PyLinearLearner setstate(const py::tuple& t) {
    if (t.size() != 4) throw py::value_error("LinearLearner: pickled state of another layout");
    PyLinearLearner l(t[0].cast<LinearModel>(), t[1].cast<std::string>(), option_map(t[2].cast<py::dict>()));
    if (!t[3].is_none()) {
      const auto s = t[3].cast<py::dict>();
      l.opt_->load_state(l.model_, state_from_arrays(s["tensors"].cast<py::dict>(), s["steps"].cast<std::int64_t>(),
                                                     s["touched"].cast<std::int64_t>()));
    }
    return l;
  }

 private:
  LinearModel model_;
  std::unique_ptr<linear::LinearOptimizer> opt_;
};

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


  py::class_<PyLinearLearner>(m, "LinearLearner",
                              "A LinearModel and its optimizer, kept together so that training continues across "
                              "calls, bit for bit as one longer run (linear::fit without syncs)")
      .def(py::init([](const std::string& task, std::int64_t dim, std::int64_t classes, bool fit_bias,
                       const std::string& optimizer, const py::dict& options) {
             return PyLinearLearner(LinearModel(linear::linear_task_from_string(task), dim, classes, fit_bias), optimizer,
                                    option_map(options));
           }),
           py::arg("task"), py::arg("dim"), py::arg("classes"), py::arg("fit_bias"), py::arg("optimizer"),
           py::arg("options"))
      .def("set_options", &PyLinearLearner::set_options, py::arg("options"),
           "new options for the same optimizer; its state carries over")
      .def("fit", &PyLinearLearner::fit, py::arg("X"), py::arg("labels") = py::none(), py::arg("targets") = py::none(),
           py::arg("epochs") = 5, py::arg("batch_size") = 1, py::arg("seed") = 0, py::arg("shuffle") = true,
           py::arg("threads") = 0, py::arg("weights") = py::none(),
           "linear::fit from where the learner stands, without its closing sync; returns the per-epoch metrics")
      .def("sync", &PyLinearLearner::sync, "brings every weight of the live model up to date (optimizer.sync)")
      .def("snapshot", &PyLinearLearner::snapshot, "a synced copy of the model without optimizer state")
      .def_property_readonly("task", [](const PyLinearLearner& l) { return std::string(linear::to_string(l.model().task())); })
      .def_property_readonly("dim", [](const PyLinearLearner& l) { return l.model().dim(); })
      .def_property_readonly("classes", [](const PyLinearLearner& l) { return l.model().classes(); })
      .def_property_readonly("fit_bias", [](const PyLinearLearner& l) { return l.model().fit_bias(); })
      .def_property_readonly("optimizer", &PyLinearLearner::optimizer)
      .def_property_readonly("options", &PyLinearLearner::options)
      .def_property_readonly("steps", &PyLinearLearner::steps)
      .def("state", &PyLinearLearner::state, "the optimizer's state: {steps, touched, tensors} (copies), or None")
      .def(py::pickle([](const PyLinearLearner& l) { return l.getstate(); },
                      [](const py::tuple& t) { return PyLinearLearner::setstate(t); }));

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
