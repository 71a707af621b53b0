#include "convert.hpp"

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "adakit/core/parallel.hpp"
#include "adakit/optim/registry.hpp"

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

py::object json_to_py(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(json_to_py(v));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = json_to_py(v);
      return out;
    }
    default: return py::none();  // binary, discarded: never in adakit's reports
  }
}

nlohmann::json py_to_json(const py::handle& obj) {
  if (obj.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(obj)) return obj.cast<bool>();
  if (py::isinstance<py::int_>(obj)) return obj.cast<std::int64_t>();
  if (py::isinstance<py::float_>(obj)) return obj.cast<double>();
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  if (py::isinstance<py::dict>(obj)) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : obj.cast<py::dict>()) out[py::str(k).cast<std::string>()] = py_to_json(v);
    return out;
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : obj) out.push_back(py_to_json(v));
    return out;
  }
  if (py::hasattr(obj, "__index__")) return py::int_(py::reinterpret_borrow<py::object>(obj)).cast<std::int64_t>();
  if (py::hasattr(obj, "__float__")) return py::float_(py::reinterpret_borrow<py::object>(obj)).cast<double>();
  throw py::type_error("expected JSON-like data (dict, list, str, number, bool, None), got " +
                       py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
}

std::pair<std::string, optim::OptionMap> optimizer_choice(const std::string& spec, const py::dict& options) {
  auto [name, opts] = optim::parse_optimizer_spec(spec);
  for (auto& [k, v] : option_map(options)) opts[k] = v;
  return {name, opts};
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
