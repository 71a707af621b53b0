#include "convert.hpp"

#include <atomic>
#include <cstdlib>

#include "adakit/core/parallel.hpp"

namespace adakit::python {
namespace {
std::atomic<int> g_user_threads{0};
}

optim::OptionMap option_map(const py::dict& options) {
  optim::OptionMap out;
  for (const auto& [k, v] : options) {
    const auto key = py::str(k).cast<std::string>();
    const auto value = py::reinterpret_borrow<py::object>(v);
    const bool is_bool = py::isinstance<py::bool_>(value) || py::str(py::type::of(value).attr("__name__")).cast<std::string>() == "bool_";
    if (is_bool) out[key] = value.cast<bool>() ? "true" : "false";
    else if (py::isinstance<py::str>(value)) out[key] = value.cast<std::string>();
    else if (py::hasattr(value, "__index__")) out[key] = py::str(py::int_(value)).cast<std::string>();  // int, numpy ints
    else if (py::hasattr(value, "__float__")) out[key] = py::str(py::float_(value)).cast<std::string>();
    else
      throw py::type_error("option '" + key + "': expected a number, a bool or a string, got " +
                           py::str(py::type::of(v).attr("__name__")).cast<std::string>());
  }
  return out;
}

py::object option_value(const std::string& text) {
  if (text == "true") return py::bool_(true);
  if (text == "false") return py::bool_(false);
  if (!text.empty()) {
    char* end = nullptr;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() + text.size()) return py::int_(i);
    const double d = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size()) return py::float_(d);
  }
  return py::str(text);
}

py::dict option_dict(const optim::OptionMap& options) {
  py::dict d;
  for (const auto& [k, v] : options) d[py::str(k)] = option_value(v);
  return d;
}

int user_threads() { return g_user_threads.load(); }

void set_user_threads(int n) {
  g_user_threads.store(n > 0 ? n : 0);
  set_num_threads(n);
}

ThreadScope::ThreadScope(int threads) : active_(threads > 0) {
  if (active_) set_num_threads(threads);
}

ThreadScope::~ThreadScope() {
  if (active_) set_num_threads(g_user_threads.load());
}

}  // namespace adakit::python
