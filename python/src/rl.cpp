// adakit._adakit reinforcement learning: rl::run (`adakit rl`), an agent and an environment built from
// names and the recipe's defaults, trained, evaluated greedily; the summary JSON and the curve CSV.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "adakit/rl/env.hpp"
#include "adakit/rl/run.hpp"
#include "convert.hpp"

namespace adakit::python {

void bind_rl(py::module_& m) {
  m.def(
      "rl_environments",
      [] {
        py::list out;
        for (const auto& e : rl::environments())
          out.append(py::make_tuple(std::string(e.name), std::string(e.summary), e.solved_return));
        return out;
      },
      "(name, summary, solved return) of every environment");

  m.def(
      "rl_run",
      [](const std::string& env, const std::string& agent, const std::string& optimizer, const py::dict& options,
         const std::string& schedule, double clip_norm, double clip_value, std::optional<std::int64_t> episodes,
         std::optional<std::int64_t> tilings, std::optional<std::int64_t> tiles, std::optional<std::int64_t> epsilon_decay,
         std::optional<double> gamma, std::optional<double> epsilon_start, std::optional<double> epsilon_end,
         const std::string& bins, const std::string& bounds, const std::string& gradients, std::int64_t table_size,
         std::int64_t eval, std::int64_t max_steps, double initial_q, std::uint64_t seed, bool stop_when_solved,
         int threads) {
        rl::RunOptions o;
        o.env = env;
        o.agent = agent;
        std::tie(o.optimizer, o.optimizer_options) = optimizer_choice(optimizer, options);
        o.schedule = schedule;
        o.clip_norm = clip_norm;
        o.clip_value = clip_value;
        o.episodes = episodes;
        o.tilings = tilings;
        o.tiles = tiles;
        o.epsilon_decay = epsilon_decay;
        o.gamma = gamma;
        o.epsilon_start = epsilon_start;
        o.epsilon_end = epsilon_end;
        o.bins = bins;
        o.bounds = bounds;
        o.gradients = gradients;
        o.table_size = table_size;
        o.eval = eval;
        o.max_steps = max_steps;
        o.initial_q = initial_q;
        o.seed = seed;
        o.stop_when_solved = stop_when_solved;
        rl::RunReport r;
        {
          py::gil_scoped_release nogil;
          ThreadScope scope(threads);
          r = rl::run(o);
        }
        return py::make_tuple(json_to_py(r.summary), rl::curve_csv(r.train));
      },
      py::arg("env"), py::arg("agent") = "q-linear", py::arg("optimizer") = "adagrad", py::arg("options") = py::dict(),
      py::arg("schedule") = "constant", py::arg("clip_norm") = 0.0, py::arg("clip_value") = 0.0,
      py::arg("episodes") = py::none(), py::arg("tilings") = py::none(), py::arg("tiles") = py::none(),
      py::arg("epsilon_decay") = py::none(), py::arg("gamma") = py::none(), py::arg("epsilon_start") = py::none(),
      py::arg("epsilon_end") = py::none(), py::arg("bins") = "", py::arg("bounds") = "", py::arg("gradients") = "auto",
      py::arg("table_size") = 0, py::arg("eval") = 100, py::arg("max_steps") = 0, py::arg("initial_q") = 0.0,
      py::arg("seed") = 0, py::arg("stop_when_solved") = false, py::arg("threads") = 0,
      "rl::run: (summary, curve CSV); unset values take the environment's recipe");
}

}  // namespace adakit::python
