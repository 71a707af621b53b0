// adakit._adakit training: adakit.nn.Model, an nn::Sequential built from a spec (nn::build_model) with
// what prediction needs (io::ModelInfo), trained by train::fit with any optimizer of the registry,
// saved and loaded as model files (io::save_model / load_model); and train::minimize_runs (`adakit
// minimize`). The GIL is released while training, predicting and minimising.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/model.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/optim/schedule.hpp"
#include "adakit/train/fit.hpp"
#include "adakit/train/minimize_runs.hpp"
#include "arrays.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

py::dict metrics_dict(const train::Metrics& m) {
  py::dict d;
  d["loss"] = m.loss;
  d["accuracy"] = m.accuracy;
  d["mse"] = m.mse;
  d["samples"] = m.samples;
  return d;
}

class PyModel {
 public:
  PyModel(nn::Sequential model, io::ModelInfo info) : model_(std::move(model)), info_(std::move(info)) {}

  // nn::build_model(spec, train) and the ModelInfo `adakit train --save` writes; the objective is the
  // one train::pick_objective gives for the data and the model's outputs.
  static PyModel build(const std::string& spec, const data::Dataset& train, const std::string& activation, double dropout,
                       std::uint64_t seed, const std::vector<float>& scaler_mean, const std::vector<float>& scaler_scale) {
    nn::Sequential model = nn::build_model(spec, train, {activation, dropout, seed});
    io::ModelInfo info;
    info.input_shape = nn::model_input_shape(spec, train.sample_shape());
    info.objective = std::string(train::to_string(train::pick_objective(train, shape_numel(model.output_shape(info.input_shape)))));
    info.class_names = train.class_names;
    info.feature_names = train.feature_names;
    info.scaler_mean = scaler_mean;
    info.scaler_scale = scaler_scale;
    info.dataset = train.name;
    return PyModel(std::move(model), std::move(info));
  }

  static PyModel load(const std::filesystem::path& path) {
    io::LoadedModel loaded;
    {
      py::gil_scoped_release nogil;
      loaded = io::load_model(path);
    }
    return PyModel(std::move(loaded.model), std::move(loaded.info));
  }

  void save(const std::filesystem::path& path) {
    py::gil_scoped_release nogil;
    io::save_model(path, model_, info_);
  }

  py::dict fit(const data::Dataset& train_data, const std::string& optimizer, const py::dict& options, std::int64_t epochs,
               std::int64_t batch_size, std::uint64_t seed, bool shuffle, std::int64_t patience, double min_delta,
               bool restore_best, const std::string& on_nonfinite, const std::string& schedule, double clip_norm,
               double clip_value, const data::Dataset* validation, int threads) {
    const auto [name, opts] = optimizer_choice(optimizer, options);
    train::FitOptions fo{.epochs = epochs, .batch_size = batch_size, .seed = seed, .shuffle = shuffle, .patience = patience,
                         .min_delta = min_delta, .restore_best = restore_best};
    if (on_nonfinite == "skip") fo.on_nonfinite = train::NonFinite::skip;
    else if (on_nonfinite != "error") throw UsageError("on_nonfinite must be error or skip", {"", 0, "on_nonfinite"});
    auto opt = optim::make_optimizer(name, model_.parameters(), opts);
    opt->set_schedule(optim::Schedule::parse(schedule));
    opt->set_clip({clip_norm, clip_value});
    train::FitResult result;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      const data::Dataset train = shaped(train_data);
      data::Dataset valid;
      if (validation != nullptr && validation->size() > 0) valid = shaped(*validation);
      result = train::fit(model_, *opt, train, valid.size() > 0 ? &valid : nullptr, objective(), fo);
    }
    py::list history;
    for (const auto& e : result.history) {
      py::dict h;
      h["epoch"] = e.epoch;
      h["train"] = metrics_dict(e.train);
      h["validation"] = metrics_dict(e.validation);
      h["epoch_seconds"] = e.epoch_seconds;
      h["seconds"] = e.seconds;
      h["skipped_steps"] = e.skipped_steps;
      history.append(h);
    }
    py::dict out;
    out["optimizer"] = name;
    out["options"] = option_dict(opt->group_options(0));
    out["optimizer_state_bytes"] = opt->state_bytes();
    out["history"] = history;
    out["epochs_run"] = result.epochs_run;
    out["best_epoch"] = result.best_epoch;
    out["stopped_early"] = result.stopped_early;
    out["seconds"] = result.seconds;
    out["skipped_steps"] = result.skipped_steps;
    return out;
  }

  py::dict evaluate(const data::Dataset& d, std::int64_t batch_size, int threads) {
    train::Metrics m;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      m = train::evaluate(model_, shaped(d), objective(), batch_size);
    }
    return metrics_dict(m);
  }

  py::array_t<float> outputs(const data::Dataset& d, int threads) {
    Tensor z;
    {
      py::gil_scoped_release nogil;
      ThreadScope scope(threads);
      z = train::predict_outputs(model_, shaped(d));
    }
    return to_numpy(std::move(z));
  }

  // Classes (classification: nn::predict_classes of the outputs, binary by the sign of the logit) or
  // the regression outputs.
  py::object predict(const data::Dataset& d, int threads) {
    auto out = outputs(d, threads);
    if (objective() == train::Objective::mse) return out;
    Tensor z = Tensor::borrow(shape_of(out), out.mutable_data());
    const auto classes = nn::predict_classes(z);
    py::array_t<std::int32_t> c({static_cast<py::ssize_t>(classes.size())});
    std::copy(classes.begin(), classes.end(), c.mutable_data());
    return c;
  }

  // io::fit_to_model: raw data (a built-in's, a CSV file's) as this model takes it, scaled and with
  // its classes numbered as the model's.
  data::Dataset fit_to_model(data::Dataset d, const std::string& source) const {
    io::fit_to_model(d, info_, source.empty() ? d.name : source);
    return d;
  }

  py::dict info() const {
    py::dict d;
    d["objective"] = info_.objective;
    d["input_shape"] = info_.input_shape;
    d["class_names"] = info_.class_names;
    d["feature_names"] = info_.feature_names;
    d["scaler_mean"] = info_.scaler_mean;
    d["scaler_scale"] = info_.scaler_scale;
    d["dataset"] = info_.dataset;
    return d;
  }

  py::list parameters() {
    py::list out;
    for (auto* p : model_.parameters()) out.append(py::make_tuple(p->name(), copy_to_numpy(p->value())));
    return out;
  }

  std::string summary() const { return model_.summary(info_.input_shape); }
  py::object config() const { return json_to_py(model_.config()); }
  std::int64_t num_parameters() const { return model_.num_parameters(); }

 private:
  train::Objective objective() const { return train::objective_from_string(info_.objective); }

  // `d` with samples of the model's input shape (flattened for mlp / logreg / ...): a copy only when
  // the shape differs (what `adakit train` does with data::flatten_features).
  data::Dataset shaped(const data::Dataset& d) const {
    if (d.sample_shape() == info_.input_shape) {
      data::Dataset view;  // features borrowed, labels and targets copied (small)
      view.name = d.name;
      view.features = Tensor::borrow(d.features.shape(), const_cast<float*>(d.features.data()));
      view.labels = d.labels;
      view.targets = d.targets;
      view.class_names = d.class_names;
      return view;
    }
    data::Dataset copy = d;
    if (shape_numel(copy.sample_shape()) != shape_numel(info_.input_shape))
      throw UsageError("samples of shape " + shape_to_string(d.sample_shape()) + " do not fit the model's input " +
                           shape_to_string(info_.input_shape),
                       {"", 0, "features"});
    Shape s{copy.size()};
    s.insert(s.end(), info_.input_shape.begin(), info_.input_shape.end());
    copy.features.reshape(s);
    return copy;
  }

  nn::Sequential model_;
  io::ModelInfo info_;
};

std::vector<train::MinimizeRunsOptions::Choice> optimizer_choices(const py::object& optimizers) {
  std::vector<train::MinimizeRunsOptions::Choice> out;
  auto add = [&](const py::handle& item) {
    if (py::isinstance<py::str>(item)) {
      auto [name, opts] = optim::parse_optimizer_spec(item.cast<std::string>());
      out.push_back({name, opts});
    } else {
      const auto t = item.cast<py::tuple>();
      if (t.size() != 2) throw py::value_error("an optimizer is a spec 'name:key=value,...' or a pair (name, options)");
      auto [name, opts] = optimizer_choice(t[0].cast<std::string>(), t[1].cast<py::dict>());
      out.push_back({name, opts});
    }
  };
  if (py::isinstance<py::str>(optimizers)) add(optimizers);
  else
    for (const auto& item : optimizers) add(item);
  return out;
}

}  // namespace

void bind_train(py::module_& m) {
  py::class_<PyModel>(m, "Model",
                      "An nn model (nn::Sequential) with what prediction needs (io::ModelInfo): objective, input "
                      "shape, class names, the training data's scaler")
      .def_static("build", &PyModel::build, py::arg("spec"), py::arg("train"), py::arg("activation") = "relu",
                  py::arg("dropout") = 0.0, py::arg("seed") = 0, py::arg("scaler_mean") = std::vector<float>{},
                  py::arg("scaler_scale") = std::vector<float>{}, "nn::build_model(spec, train, {activation, dropout, seed})")
      .def_static("load", &PyModel::load, py::arg("path"), "io::load_model: a model file or a dense checkpoint")
      .def("save", &PyModel::save, py::arg("path"), "io::save_model: a safetensors model file")
      .def("fit", &PyModel::fit, py::arg("train"), py::arg("optimizer") = "adagrad", py::arg("options") = py::dict(),
           py::arg("epochs") = 10, py::arg("batch_size") = 32, py::arg("seed") = 0, py::arg("shuffle") = true,
           py::arg("patience") = 0, py::arg("min_delta") = 0.0, py::arg("restore_best") = true,
           py::arg("on_nonfinite") = "error", py::arg("schedule") = "constant", py::arg("clip_norm") = 0.0,
           py::arg("clip_value") = 0.0, py::arg("validation") = nullptr, py::arg("threads") = 0,
           "train::fit with a fresh optimizer of the registry (a name or a spec 'adagrad:lr=0.1'; `options` override)")
      .def("evaluate", &PyModel::evaluate, py::arg("data"), py::arg("batch_size") = 256, py::arg("threads") = 0,
           "train::evaluate: {loss, accuracy, mse, samples} (NaN where it does not apply)")
      .def("outputs", &PyModel::outputs, py::arg("data"), py::arg("threads") = 0,
           "train::predict_outputs: logits or regression outputs [n, outputs]")
      .def("predict", &PyModel::predict, py::arg("data"), py::arg("threads") = 0,
           "class ids (int32) for classification, the outputs for regression")
      .def("fit_to_model", &PyModel::fit_to_model, py::arg("data"), py::arg("source") = "",
           "io::fit_to_model: raw data reshaped, scaled and with classes numbered as this model's (a copy)")
      .def_property_readonly("info", &PyModel::info)
      .def_property_readonly("config", &PyModel::config)
      .def_property_readonly("num_parameters", &PyModel::num_parameters)
      .def("parameters", &PyModel::parameters, "[(name, copy of the values)]")
      .def("summary", &PyModel::summary);

  m.def("model_input_shape", [](const std::string& spec, const Shape& sample_shape) { return nn::model_input_shape(spec, sample_shape); },
        py::arg("spec"), py::arg("sample_shape"));

  m.def(
      "test_functions",
      [] {
        py::list out;
        for (const auto& f : train::test_functions())
          out.append(py::make_tuple(std::string(f.name), std::string(f.summary), f.default_dim, f.fixed_dim));
        return out;
      },
      "(name, summary, default dim, fixed dim) of every test function of train::minimize");

  m.def(
      "minimize_runs",
      [](const std::vector<std::string>& functions, const py::object& optimizers, std::int64_t dim, std::int64_t steps,
         std::uint64_t seed, const std::string& schedule, double clip_norm, double clip_value, const std::string& x0,
         const std::string& trace, const std::string& out, int threads) {
        train::MinimizeRunsOptions o;
        o.functions = functions;
        o.optimizers = optimizer_choices(optimizers);
        o.dim = dim;
        o.base.steps = steps;
        o.base.seed = seed;
        o.base.schedule = schedule;
        o.base.clip_norm = clip_norm;
        o.base.clip_value = clip_value;
        o.x0 = x0;
        o.trace = trace;
        o.out = out;
        train::MinimizeRunsReport r;
        {
          py::gil_scoped_release nogil;
          ThreadScope scope(threads);
          r = train::minimize_runs(o);
        }
        return py::make_tuple(json_to_py(r.runs), r.table);
      },
      py::arg("functions"), py::arg("optimizers"), py::arg("dim") = 0, py::arg("steps") = 1000, py::arg("seed") = 0,
      py::arg("schedule") = "constant", py::arg("clip_norm") = 0.0, py::arg("clip_value") = 0.0, py::arg("x0") = "",
      py::arg("trace") = "", py::arg("out") = "", py::arg("threads") = 0,
      "train::minimize_runs: (runs, table); optimizers: specs 'adagrad:lr=0.1' or (name, options) pairs");
}

}  // namespace adakit::python
