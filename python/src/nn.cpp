// adakit._adakit.MLP: an nn::mlp model trained by train::fit with any optimizer of the registry, on a
// float32 feature matrix viewed in place (data::Dataset over Tensor::borrow). GIL released while
// training and predicting.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/data/dataset.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/fit.hpp"
#include "arrays.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

class PyMLP {
 public:
  PyMLP(std::int64_t inputs, const std::vector<std::int64_t>& hidden, std::int64_t outputs, const std::string& activation,
        std::uint64_t seed)
      : model_(nn::mlp(inputs, hidden, outputs, activation, "", seed)), inputs_(inputs), outputs_(outputs) {}
  PyMLP(nn::Sequential model, std::int64_t inputs, std::int64_t outputs)
      : model_(std::move(model)), inputs_(inputs), outputs_(outputs) {}

  // X: float32 [n, inputs]; y: int32 class ids in [0, outputs). Softmax cross-entropy.
  py::list fit(const py::object& x_obj, const py::object& y_obj, const std::string& optimizer, const py::dict& options,
               std::int64_t epochs, std::int64_t batch_size, std::uint64_t seed, bool shuffle, int threads) {
    const py::array x = as_array(x_obj, "X"), y = as_array(y_obj, "y");
    data::Dataset d = view(x);
    const auto labels = span_1d<std::int32_t>(y, "y");
    if (static_cast<std::int64_t>(labels.size()) != d.size())
      throw py::value_error("y has " + std::to_string(labels.size()) + " labels for " + std::to_string(d.size()) + " rows");
    d.labels.assign(labels.begin(), labels.end());
    auto opt = optim::make_optimizer(optimizer, model_.parameters(), option_map(options));
    train::FitResult result;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      result = train::fit(model_, *opt, d, nullptr, train::Objective::softmax_ce,
                          {.epochs = epochs, .batch_size = batch_size, .seed = seed, .shuffle = shuffle});
    }
    py::list out;
    for (const auto& e : result.history) {
      py::dict h;
      h["epoch"] = e.epoch;
      h["loss"] = e.train.loss;
      h["accuracy"] = e.train.accuracy;
      out.append(h);
    }
    return out;
  }

  // Logits [n, outputs].
  py::array_t<float> outputs(const py::object& x_obj, int threads) {
    const py::array x = as_array(x_obj, "X");
    const data::Dataset d = view(x);
    Tensor z;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      z = train::predict_outputs(model_, d);
    }
    return to_numpy(std::move(z));
  }

  py::tuple getstate() {
    py::list params;
    for (auto* p : model_.parameters()) params.append(copy_to_numpy(p->value()));
    return py::make_tuple(model_.config().dump(), inputs_, outputs_, params);
  }

  static PyMLP setstate(const py::tuple& t) {
    PyMLP m(nn::Sequential::from_config(nlohmann::json::parse(t[0].cast<std::string>())), t[1].cast<std::int64_t>(),
            t[2].cast<std::int64_t>());
    const auto params = m.model_.parameters();
    const auto values = t[3].cast<py::list>();
    if (values.size() != params.size()) throw py::value_error("MLP: pickled parameters do not fit the model");
    for (std::size_t i = 0; i < params.size(); ++i) {
      const py::array a = as_array(values[i], "MLP parameter");
      const float* src = float32_data(a, "MLP parameter", false);
      if (shape_of(a) != params[i]->shape()) throw py::value_error("MLP: pickled parameter of the wrong shape");
      std::memcpy(params[i]->value().data(), src, static_cast<std::size_t>(a.size()) * sizeof(float));
    }
    return m;
  }

  std::int64_t num_parameters() const { return model_.num_parameters(); }

 private:
  data::Dataset view(const py::array& x) const {
    float* data = float32_data(x, "X", /*writable=*/false);  // train::fit only reads the features
    if (x.ndim() != 2 || x.shape(1) != inputs_)
      throw py::value_error("X has shape " + shape_text(x) + ", the model takes [n, " + std::to_string(inputs_) + "]");
    data::Dataset d;
    d.name = "X";
    d.features = Tensor::borrow(shape_of(x), data);
    return d;
  }

  nn::Sequential model_;
  std::int64_t inputs_, outputs_;
};

}  // namespace

void bind_nn(py::module_& m) {
  py::class_<PyMLP>(m, "MLP", "nn::mlp: linear layers with an activation between them, logits out")
      .def(py::init<std::int64_t, const std::vector<std::int64_t>&, std::int64_t, const std::string&, std::uint64_t>(),
           py::arg("inputs"), py::arg("hidden"), py::arg("outputs"), py::arg("activation") = "relu", py::arg("seed") = 0)
      .def("fit", &PyMLP::fit, py::arg("X"), py::arg("y"), py::arg("optimizer"), py::arg("options"), py::arg("epochs"),
           py::arg("batch_size"), py::arg("seed") = 0, py::arg("shuffle") = true, py::arg("threads") = 0)
      .def("outputs", &PyMLP::outputs, py::arg("X"), py::arg("threads") = 0)
      .def_property_readonly("num_parameters", &PyMLP::num_parameters)
      .def(py::pickle([](PyMLP& p) { return p.getstate(); }, [](const py::tuple& t) { return PyMLP::setstate(t); }));
}

}  // namespace adakit::python
