// adakit._adakit.Optimizer: any optimizer of the registry (optim/registry.hpp) over NumPy arrays, used
// in place. Each parameter is an adakit::Parameter whose value borrows the array's memory
// (Tensor::borrow); each step borrows the gradients the same way, so nothing is copied but a row-sparse
// gradient's rows. The GIL is released while the kernels run.
//
// Parameters are named "0", "1", ... in the order given (over all groups), so the C++ state dict's
// entries "<i>.<buffer>" and "<i>.step" map to torch's layout {"state": {i: {...}}, "param_groups": [...]}.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/registry.hpp"
#include "arrays.hpp"
#include "convert.hpp"

namespace adakit::python {
namespace {

std::string param_what(std::size_t i) { return "parameter " + std::to_string(i); }
std::string grad_what(std::size_t i) { return "gradient of parameter " + std::to_string(i); }

class PyOptimizer {
 public:
  // defaults: {option: value} for every group (adagrad also takes "convention", a preset applied first);
  // groups: a list of (list of arrays, {option: value} overriding the defaults for that group).
  PyOptimizer(const std::string& name, const py::dict& defaults, const py::list& groups) {
    const auto& info = optim::find_optimizer(name);
    if (groups.empty()) throw py::value_error("an optimizer needs at least one parameter group");
    std::vector<std::vector<Parameter*>> group_params;
    std::vector<optim::OptionMap> group_options;
    std::set<const void*> seen;
    for (const auto& g : groups) {
      const auto pair = g.cast<py::tuple>();
      if (pair.size() != 2) throw py::value_error("a parameter group is (arrays, options)");
      std::vector<Parameter*> ps;
      for (const auto& obj : pair[0].cast<py::list>()) {
        const std::size_t i = params_.size();
        py::array a = as_array(obj, param_what(i));
        float* data = float32_data(a, param_what(i), /*writable=*/true);
        if (a.size() > 0 && !seen.insert(data).second)
          throw py::value_error(param_what(i) + " is given twice (the same memory would be stepped twice)");
        params_.push_back(std::make_unique<Parameter>(std::to_string(i), Tensor::borrow(shape_of(a), data), Tensor()));
        arrays_.push_back(a);
        ps.push_back(params_.back().get());
      }
      group_params.push_back(std::move(ps));
      group_options.push_back(option_map(pair[1].cast<py::dict>()));
    }
    opt_ = info.make(group_params[0], option_map(defaults));
    if (!group_options[0].empty()) opt_->set_group_options(0, group_options[0]);
    for (std::size_t g = 1; g < group_params.size(); ++g) opt_->add_param_group(group_params[g], group_options[g]);
  }

  std::string name() const { return std::string(opt_->name()); }
  std::size_t num_params() const { return params_.size(); }
  std::size_t num_groups() const { return opt_->num_groups(); }
  std::int64_t steps() const { return opt_->steps(); }
  std::vector<std::size_t> group_sizes() const {
    std::vector<std::size_t> out;
    for (std::size_t g = 0; g < opt_->num_groups(); ++g) out.push_back(opt_->group_params(g).size());
    return out;
  }
  py::dict group_options(std::size_t g) const { return option_dict(opt_->group_options(check_group(g))); }
  void set_group_options(std::size_t g, const py::dict& changes) {
    opt_->set_group_options(check_group(g), option_map(changes));
  }
  py::list params() const {
    py::list out;
    for (const auto& a : arrays_) out.append(a);
    return out;
  }
  void reset() { opt_->reset(); }
  // A further group (torch's add_param_group): the arrays and the options overriding the defaults.
  void add_param_group(const py::list& arrays, const py::dict& overrides) {
    std::vector<Parameter*> ps;
    const std::size_t first = params_.size();
    std::vector<std::unique_ptr<Parameter>> added;
    std::vector<py::array> added_arrays;
    for (const auto& obj : arrays) {
      const std::size_t i = first + added.size();
      py::array a = as_array(obj, param_what(i));
      float* data = float32_data(a, param_what(i), /*writable=*/true);
      for (const auto& p : params_)
        if (a.size() > 0 && p->value().data() == data) throw py::value_error(param_what(i) + " is already in a group");
      added.push_back(std::make_unique<Parameter>(std::to_string(i), Tensor::borrow(shape_of(a), data), Tensor()));
      added_arrays.push_back(a);
      ps.push_back(added.back().get());
    }
    opt_->add_param_group(ps, option_map(overrides));  // throws before anything is kept
    for (auto& p : added) params_.push_back(std::move(p));
    for (auto& a : added_arrays) arrays_.push_back(a);
  }

  // grads: one entry per parameter: None (no gradient: the parameter is skipped, its state untouched),
  // an array of the parameter's shape, or (indices, rows) for a row-sparse step. values: None, or the
  // parameters' current arrays (torch may have swapped a tensor's storage): rebound when they moved.
  void step(const py::list& grads, const py::object& values, int threads) {
    if (grads.size() != params_.size())
      throw py::value_error("step: " + std::to_string(grads.size()) + " gradients for " +
                            std::to_string(params_.size()) + " parameters");
    if (!values.is_none()) rebind(values.cast<py::list>());
    struct Restore {  // however the step ends, no parameter keeps a pointer into a caller's gradient
      std::vector<std::unique_ptr<Parameter>>& ps;
      ~Restore() {
        for (auto& p : ps) {
          p->grad() = Tensor();
          p->sparse_grad().reset();
          p->set_requires_grad(true);
        }
      }
    } restore{params_};
    for (std::size_t i = 0; i < params_.size(); ++i) {
      Parameter& p = *params_[i];
      const py::handle obj = grads[i];
      if (obj.is_none()) {
        p.set_requires_grad(false);
      } else if (py::isinstance<py::tuple>(obj)) {
        p.sparse_grad() = row_sparse(i, obj.cast<py::tuple>());
      } else {
        const py::array a = as_array(obj, grad_what(i));
        float* g = float32_data(a, grad_what(i), /*writable=*/false);
        if (shape_of(a) != p.shape())
          throw py::value_error(grad_what(i) + " has shape " + shape_text(a) + ", the parameter has shape " +
                                shape_to_string(p.shape()));
        p.grad() = Tensor::borrow(p.shape(), g);
      }
    }
    py::gil_scoped_release nogil;
    ThreadScope scope(threads);
    opt_->step();
  }

  // {"optimizer": name, "steps": n, "state": {i: {"step": n, buffer: array}}, "param_groups": [{options,
  //  "params": [i, ...]}], "group_state": {g: {buffer: array}} (only when the optimizer keeps any)}.
  // Arrays are copies.
  py::dict state_dict() const {
    const optim::StateDict sd = opt_->state_dict();
    py::dict state, group_state;
    auto param_state = [&](std::size_t i) -> py::dict {
      py::int_ key(i);
      if (!state.contains(key)) state[key] = py::dict();
      return state[key].cast<py::dict>();
    };
    for (const auto& [key, t] : sd.tensors) {
      const auto dot = key.find('.');
      const std::string head = key.substr(0, dot), rest = key.substr(dot + 1);
      if (head == "group") {  // "group.<g>.<buffer>": state shared by a group's parameters
        const auto dot2 = rest.find('.');
        py::int_ g(std::stoul(rest.substr(0, dot2)));
        if (!group_state.contains(g)) group_state[g] = py::dict();
        group_state[g].cast<py::dict>()[py::str(rest.substr(dot2 + 1))] = copy_to_numpy(t);
      } else {
        param_state(std::stoul(head))[py::str(rest)] = copy_to_numpy(t);
      }
    }
    for (const auto& [key, n] : sd.counters) {
      const auto dot = key.find('.');
      if (key.substr(0, dot) == "optimizer") continue;
      param_state(std::stoul(key.substr(0, dot)))[py::str(key.substr(dot + 1))] = py::int_(n);
    }
    py::list groups;
    std::size_t next = 0;
    for (std::size_t g = 0; g < opt_->num_groups(); ++g) {
      py::dict d = option_dict(opt_->group_options(g));
      py::list ids;
      for (std::size_t k = 0; k < opt_->group_params(g).size(); ++k) ids.append(next++);
      d["params"] = ids;
      groups.append(d);
    }
    py::dict out;
    out["optimizer"] = name();
    out["steps"] = opt_->steps();
    out["state"] = state;
    out["param_groups"] = groups;
    if (!group_state.empty()) out["group_state"] = group_state;
    return out;
  }

  // The inverse of state_dict(); "steps" and "group_state" are optional (torch's state dicts lack
  // them). Checked entirely before anything changes (Optimizer::load_state_dict).
  void load_state_dict(const py::dict& d) {
    optim::StateDict sd = opt_->state_dict();  // schedule, clipping, parameter names: as they are
    sd.tensors.clear();
    sd.counters.clear();
    if (d.contains("optimizer")) sd.metadata["optimizer"] = d["optimizer"].cast<std::string>();
    const auto groups = d["param_groups"].cast<py::list>();
    if (groups.size() != opt_->num_groups())
      throw py::value_error("state dict has " + std::to_string(groups.size()) + " parameter groups, the optimizer has " +
                            std::to_string(opt_->num_groups()));
    std::size_t next = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto group = groups[g].cast<py::dict>();
      const auto ids = group["params"].cast<std::vector<std::size_t>>();
      if (ids.size() != opt_->group_params(g).size())
        throw py::value_error("state dict's group " + std::to_string(g) + " has " + std::to_string(ids.size()) +
                              " parameters, the optimizer's has " + std::to_string(opt_->group_params(g).size()));
      next += ids.size();
      py::dict options;
      for (const auto& [k, v] : group)
        if (py::str(k).cast<std::string>() != "params") options[k] = v;
      for (const auto& [k, v] : option_map(options)) sd.metadata["group." + std::to_string(g) + "." + k] = v;
    }
    for (const auto& [k, v] : d["state"].cast<py::dict>()) {
      const auto i = k.cast<std::size_t>();
      if (i >= next) throw py::value_error("state dict has state for parameter " + std::to_string(i) + ", the optimizer has " + std::to_string(next));
      for (const auto& [bk, bv] : v.cast<py::dict>()) {
        const auto buffer = py::str(bk).cast<std::string>();
        const std::string key = std::to_string(i) + "." + buffer;
        if (buffer == "step") sd.counters[key] = static_cast<std::int64_t>(py::float_(py::reinterpret_borrow<py::object>(bv)).cast<double>());
        else sd.tensors[key] = tensor_from(py::reinterpret_borrow<py::object>(bv), key);
      }
    }
    if (d.contains("group_state"))
      for (const auto& [g, buffers] : d["group_state"].cast<py::dict>())
        for (const auto& [bk, bv] : buffers.cast<py::dict>()) {
          const std::string key = "group." + std::to_string(g.cast<std::size_t>()) + "." + py::str(bk).cast<std::string>();
          sd.tensors[key] = tensor_from(py::reinterpret_borrow<py::object>(bv), key);
        }
    std::int64_t steps = 0;
    for (const auto& [k, n] : sd.counters) steps = std::max(steps, n);
    sd.counters["optimizer.steps"] = d.contains("steps") ? d["steps"].cast<std::int64_t>() : steps;
    opt_->load_state_dict(sd);
  }

 private:
  std::size_t check_group(std::size_t g) const {
    if (g >= opt_->num_groups())
      throw py::index_error("group " + std::to_string(g) + " (the optimizer has " + std::to_string(opt_->num_groups()) + ")");
    return g;
  }

  static Tensor tensor_from(const py::object& obj, const std::string& key) {
    const py::array a = as_array(obj, "state '" + key + "'");
    const float* data = float32_data(a, "state '" + key + "'", /*writable=*/false);
    return Tensor(shape_of(a), std::span<const float>(data, static_cast<std::size_t>(a.size())));
  }

  RowSparseGrad row_sparse(std::size_t i, const py::tuple& pair) const {
    if (pair.size() != 2) throw py::value_error(grad_what(i) + ": a row-sparse gradient is (indices, rows)");
    const Parameter& p = *params_[i];
    const py::array idx = as_array(pair[0], grad_what(i) + " (indices)");
    const py::array rows = as_array(pair[1], grad_what(i) + " (rows)");
    RowSparseGrad sg;
    if (has_dtype<std::int64_t>(idx)) {
      const auto s = span_1d<std::int64_t>(idx, grad_what(i) + " (indices)");
      sg.indices.assign(s.begin(), s.end());
    } else if (has_dtype<std::int32_t>(idx)) {
      const auto s = span_1d<std::int32_t>(idx, grad_what(i) + " (indices)");
      sg.indices.assign(s.begin(), s.end());
    } else {
      throw py::type_error(grad_what(i) + " (indices): dtype is " + py::str(idx.dtype()).cast<std::string>() +
                           ", expected int64 or int32");
    }
    const float* r = float32_data(rows, grad_what(i) + " (rows)", /*writable=*/false);
    const auto n = static_cast<std::int64_t>(sg.indices.size());
    const bool fits = p.value().rank() >= 1 && rows.size() == n * p.row_dim() && (rows.ndim() <= 1 || rows.shape(0) == n);
    if (!fits)
      throw py::value_error(grad_what(i) + ": " + std::to_string(n) + " indices need rows of shape [" + std::to_string(n) +
                            ", " + std::to_string(p.row_dim()) + "], got " + shape_text(rows));
    sg.values.assign(r, r + rows.size());
    return sg;
  }

  void rebind(const py::list& values) {
    if (values.size() != params_.size())
      throw py::value_error("step: " + std::to_string(values.size()) + " parameter arrays for " +
                            std::to_string(params_.size()) + " parameters");
    for (std::size_t i = 0; i < params_.size(); ++i) {
      py::array a = as_array(values[i], param_what(i));
      float* data = float32_data(a, param_what(i), /*writable=*/true);
      Parameter& p = *params_[i];
      if (shape_of(a) != p.shape())
        throw py::value_error(param_what(i) + " now has shape " + shape_text(a) + ", it had " + shape_to_string(p.shape()));
      if (data != p.value().data()) p.value() = Tensor::borrow(p.shape(), data);
      arrays_[i] = a;
    }
  }

  std::vector<std::unique_ptr<Parameter>> params_;  // stable addresses: the optimizer keeps pointers
  std::vector<py::array> arrays_;                   // keep the parameters' memory alive
  std::unique_ptr<optim::Optimizer> opt_;
};

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<PyOptimizer>(m, "Optimizer", "An adakit optimizer (registry name) over float32 NumPy arrays, in place")
      .def(py::init<const std::string&, const py::dict&, const py::list&>(), py::arg("name"), py::arg("defaults"),
           py::arg("groups"))
      .def_property_readonly("name", &PyOptimizer::name)
      .def_property_readonly("num_params", &PyOptimizer::num_params)
      .def_property_readonly("num_groups", &PyOptimizer::num_groups)
      .def_property_readonly("group_sizes", &PyOptimizer::group_sizes)
      .def_property_readonly("steps", &PyOptimizer::steps)
      .def_property_readonly("params", &PyOptimizer::params)
      .def("group_options", &PyOptimizer::group_options, py::arg("group"))
      .def("set_group_options", &PyOptimizer::set_group_options, py::arg("group"), py::arg("options"))
      .def("step", &PyOptimizer::step, py::arg("grads"), py::arg("values") = py::none(), py::arg("threads") = 0)
      .def("state_dict", &PyOptimizer::state_dict)
      .def("load_state_dict", &PyOptimizer::load_state_dict, py::arg("state_dict"))
      .def("add_param_group", &PyOptimizer::add_param_group, py::arg("arrays"), py::arg("overrides"))
      .def("reset", &PyOptimizer::reset);

  m.def("optimizers", [] {
    py::list out;
    for (const auto& info : optim::optimizers()) {
      py::list options;
      for (const auto& o : info.options()) options.append(py::make_tuple(o.key, option_value(o.default_value), o.help));
      out.append(py::make_tuple(std::string(info.name), std::string(info.summary), std::string(info.reference), options));
    }
    return out;
  }, "Every optimizer of the registry: (name, summary, reference, [(option, default, help)])");
}

}  // namespace adakit::python
