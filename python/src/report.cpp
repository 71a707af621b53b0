// adakit._adakit reports: report::Comparison (what `adakit compare` summarises: runs of one task over
// seeds, per optimizer mean ± std, averaged curves, a table, summary.csv, plots) and the guided tour
// (tour::run_tour, `adakit demo`).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/report/compare.hpp"
#include "adakit/tour/demos.hpp"
#include "convert.hpp"

namespace adakit::python {

void bind_report(py::module_& m) {
  py::class_<report::Comparison>(m, "Comparison", "report::Comparison: runs of one task (train, minimize, rl) over seeds")
      .def(py::init<std::string, std::int64_t, std::uint64_t>(), py::arg("task"), py::arg("seeds"), py::arg("first_seed") = 0)
      .def("add",
           [](report::Comparison& c, const std::string& label, std::uint64_t seed, const py::dict& run) {
             c.add(label, seed, py_to_json(run));
           },
           py::arg("label"), py::arg("seed"), py::arg("run"), "One run's report (a dict with its final metrics and a 'curve')")
      .def("results", [](const report::Comparison& c) { return json_to_py(c.results()); })
      .def("table", &report::Comparison::table)
      .def("summary_csv", &report::Comparison::summary_csv)
      .def(
          "write_plots",
          [](const report::Comparison& c, const std::filesystem::path& dir) {
            std::vector<std::string> messages;
            const auto images = c.write_plots(dir, [&](const std::string& s) { messages.push_back(s); });
            return py::make_tuple(json_to_py(images), messages);
          },
          py::arg("dir"), "compare_<series>.{png,svg} in dir: (image names, messages on images left out)");
  m.def("compared_metrics", &report::compared_metrics, py::arg("task"));

  m.def(
      "demo_names",
      [] {
        py::list out;
        for (const auto& d : tour::demos()) out.append(py::make_tuple(std::string(d.name), std::string(d.title)));
        return out;
      },
      "(name, title) of every demo of the guided tour");
  m.def(
      "run_demos",
      [](const std::vector<std::string>& names, const std::filesystem::path& out, bool quick, std::uint64_t seed,
         const std::string& data_dir) {
        tour::DemoOptions o{.out = out, .quick = quick, .seed = seed, .data_dir = data_dir};
        tour::TourResult r;
        {
          py::gil_scoped_release nogil;
          r = tour::run_tour(names, o);
        }
        py::list summaries;
        for (const auto& d : r.results) summaries.append(json_to_py(d.summary));
        return py::make_tuple(summaries, r.report);
      },
      py::arg("names"), py::arg("out"), py::arg("quick") = false, py::arg("seed") = 0,
      py::arg("data_dir") = "",
      "tour::run_tour: the named demos ('all' = every one), their files, summary.json and report.html in out; "
      "returns (each demo's summary, the report's path)");
}

}  // namespace adakit::python
