// adakit._adakit.MLP: an nn::mlp model trained by train::fit with any optimizer of the registry, on a
// float32 feature matrix viewed in place (data::Dataset over Tensor::borrow); the optimizer is kept
// with the model, so that a later fit continues it. GIL released while training and predicting.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <map>
#include <memory>
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

  // X: float32 [n, inputs]; y: int32 class ids in [0, outputs). Softmax cross-entropy. The optimizer
  // is made by the first call and kept: a later call continues its state (accumulators, step counts),
  // with the options it is given (adakit.sklearn's partial_fit and warm_start; a new MLP starts afresh).
  py::list fit(const py::object& x_obj, const py::object& y_obj, const std::string& optimizer, const py::dict& options,
               std::int64_t epochs, std::int64_t batch_size, std::uint64_t seed, bool shuffle, int threads) {
    const py::array x = as_array(x_obj, "X"), y = as_array(y_obj, "y");
    data::Dataset d = view(x);
    const auto labels = span_1d<std::int32_t>(y, "y");
    if (static_cast<std::int64_t>(labels.size()) != d.size())
      throw py::value_error("y has " + std::to_string(labels.size()) + " labels for " + std::to_string(d.size()) + " rows");
    d.labels.assign(labels.begin(), labels.end());
    optim::Optimizer& opt = optimizer_for(optimizer, options);
    train::FitResult result;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      result = train::fit(model_, opt, d, nullptr, train::Objective::softmax_ce,
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

  // Copies of the parameters' values, in model order.
  py::list parameters() {
    py::list params;
    for (auto* p : model_.parameters()) params.append(copy_to_numpy(p->value()));
    return params;
  }

  // The kept optimizer's state (optim::StateDict: {"tensors": {name: array}, "counters", "metadata"},
  // copies), or None before the first fit.
  py::object optimizer_state() const {
    if (opt_ == nullptr) return py::none();
    const optim::StateDict sd = opt_->state_dict();
    py::dict tensors;
    for (const auto& [name, t] : sd.tensors) tensors[py::str(name)] = copy_to_numpy(t);
    py::dict out;
    out["tensors"] = tensors;
    out["counters"] = sd.counters;
    out["metadata"] = sd.metadata;
    return out;
  }

  // The model's config and parameters, and the kept optimizer (name, options as text, state), so that an
  // unpickled MLP continues training bit for bit.
  py::tuple getstate() {
    py::object opt = py::none();
    if (opt_ != nullptr) {
      py::dict texts;
      for (const auto& [k, v] : opt_->group_options(0)) texts[py::str(k)] = v;
      opt = py::make_tuple(std::string(opt_->name()), texts, optimizer_state());
    }
    return py::make_tuple(model_.config().dump(), inputs_, outputs_, parameters(), opt);
  }

  static PyMLP setstate(const py::tuple& t) {
    if (t.size() != 4 && t.size() != 5) throw py::value_error("MLP: pickled state of another layout");
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
    if (t.size() == 5 && !t[4].is_none()) {  // pickles of before the optimizer was kept have 4 entries
      const auto o = t[4].cast<py::tuple>();
      m.opt_ = optim::make_optimizer(o[0].cast<std::string>(), m.model_.parameters(), option_map(o[1].cast<py::dict>()));
      const auto state = o[2].cast<py::dict>();
      optim::StateDict sd;
      for (const auto& [k, v] : state["tensors"].cast<py::dict>()) {
        const auto name = py::str(k).cast<std::string>();
        const py::array a = as_array(v, name);
        const float* src = float32_data(a, name, /*writable=*/false);
        sd.tensors.emplace(name, Tensor(shape_of(a), std::span<const float>(src, static_cast<std::size_t>(a.size()))));
      }
      sd.counters = state["counters"].cast<std::map<std::string, std::int64_t>>();
      sd.metadata = state["metadata"].cast<std::map<std::string, std::string>>();
      m.opt_->load_state_dict(sd);
    }
    return m;
  }

  std::int64_t num_parameters() const { return model_.num_parameters(); }

 private:
  // The kept optimizer, made on first use. Options that differ from its own replace them (every field,
  // as a fresh optimizer of these options would have them) from the next step on; its state is kept.
  // Another optimizer's name is a ValueError: a new MLP starts afresh.
  optim::Optimizer& optimizer_for(const std::string& name, const py::dict& options) {
    auto fresh = optim::make_optimizer(name, model_.parameters(), option_map(options));
    if (opt_ == nullptr) {
      opt_ = std::move(fresh);
      return *opt_;
    }
    if (fresh->name() != opt_->name())
      throw py::value_error("this MLP is trained with " + std::string(opt_->name()) + "; it cannot continue with " +
                            std::string(fresh->name()) + " (start a new one)");
    const optim::OptionMap wanted = fresh->group_options(0);
    if (wanted != opt_->group_options(0)) opt_->set_group_options(0, wanted);
    return *opt_;
  }

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
  // Over model_.parameters(): the layers are held by pointer, so the parameters stay put when the
  // PyMLP moves, and the optimizer keys its state by parameter id anyway.
  std::unique_ptr<optim::Optimizer> opt_;
};

}  // namespace

void bind_nn(py::module_& m) {
  py::class_<PyMLP>(m, "MLP", "nn::mlp: linear layers with an activation between them, logits out")
      .def(py::init<std::int64_t, const std::vector<std::int64_t>&, std::int64_t, const std::string&, std::uint64_t>(),
           py::arg("inputs"), py::arg("hidden"), py::arg("outputs"), py::arg("activation") = "relu", py::arg("seed") = 0)
      .def("fit", &PyMLP::fit, py::arg("X"), py::arg("y"), py::arg("optimizer"), py::arg("options"), py::arg("epochs"),
           py::arg("batch_size"), py::arg("seed") = 0, py::arg("shuffle") = true, py::arg("threads") = 0)
      .def("outputs", &PyMLP::outputs, py::arg("X"), py::arg("threads") = 0)
      .def("parameters", &PyMLP::parameters, "copies of the parameters' values, in model order")
      .def("optimizer_state", &PyMLP::optimizer_state,
           "the kept optimizer's state {tensors, counters, metadata} (copies), or None before the first fit")
      .def_property_readonly("num_parameters", &PyMLP::num_parameters)
      .def(py::pickle([](PyMLP& p) { return p.getstate(); }, [](const py::tuple& t) { return PyMLP::setstate(t); }));
}

}  // namespace adakit::python
