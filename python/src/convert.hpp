// Small conversions shared by the bindings: option maps, a thread-count scope, GIL-free calls.
#pragma once
#include <pybind11/pybind11.h>

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "adakit/optim/options.hpp"

namespace adakit::python {

namespace py = pybind11;

// {"lr": 0.1, "nesterov": True, "eps_mode": "inside"} -> {"lr": "0.1", "nesterov": "true", ...}.
// Floats go through Python's shortest round-trip repr. TypeError on a value of another type.
optim::OptionMap option_map(const py::dict& options);
// The reverse, for state dicts and param_groups: "true"/"false" -> bool, an integer -> int, a number
// -> float, anything else stays text.
py::object option_value(const std::string& text);
py::dict option_dict(const optim::OptionMap& options);

// A JSON value as Python's json.loads gives it (object -> dict, array -> list, null -> None). The
// library's reports (run summaries, curves) come back through this.
py::object json_to_py(const nlohmann::json& j);
// A Python value (dict, list, str, bool, int, float, None) as JSON; TypeError on anything else.
nlohmann::json py_to_json(const py::handle& obj);

// An optimizer given as a name or a spec ("adagrad:lr=0.1", parse_optimizer_spec) and an options dict
// that overrides the spec's options.
std::pair<std::string, optim::OptionMap> optimizer_choice(const std::string& spec, const py::dict& options);

// The thread count set from Python (adakit.set_num_threads); 0 = the default.
int user_threads();
void set_user_threads(int n);

// Runs adakit's kernels with `threads` threads (<= 0: the thread count set with adakit.set_num_threads)
// for its lifetime, then restores that setting.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  bool active_;
};

}  // namespace adakit::python
