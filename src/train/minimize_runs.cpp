#include "adakit/train/minimize_runs.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/report/curve.hpp"

namespace adakit::train {
namespace {

using report::format_number;
using report::number_or_null;

double distance(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(s);
}

}  // namespace

std::vector<float> parse_point(const std::string& text) {
  std::vector<float> v;
  if (text.empty()) return v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(static_cast<float>(optim::parse_double("x0", item)));
  return v;
}

TraceCsv::TraceCsv(std::int64_t dim) {
  text_ = "step,loss";
  for (const char* name : {",x", ",g", ",lr"})
    for (std::int64_t i = 0; i < dim; ++i) text_ += name + std::to_string(i);
  text_ += "\n";
}

void TraceCsv::add(const TraceRow& r) {
  text_ += std::to_string(r.step) + ',' + format_number(r.loss);
  for (float v : r.x) text_ += ',' + format_number(v);
  for (float v : r.grad) text_ += ',' + format_number(v);
  for (double v : r.effective_lr) text_ += ',' + (std::isnan(v) ? std::string() : format_number(v));
  text_ += '\n';
}

MinimizeRunsReport minimize_runs(const MinimizeRunsOptions& options) {
  MinimizeRunsOptions o = options;
  if (o.functions == std::vector<std::string>{"all"}) {
    o.functions.clear();
    for (const auto& info : test_functions()) o.functions.emplace_back(info.name);
  }
  const bool single = o.functions.size() == 1 && o.optimizers.size() == 1;
  if (!o.trace.empty() && !single)
    throw UsageError("--trace takes one function and one optimizer; use --out DIR for several", {"", 0, "trace"});
  if (!o.x0.empty() && o.functions.size() > 1)
    throw UsageError("--x0 needs one --function (the functions differ in dimension)", {"", 0, "x0"});
  if (!o.out.empty()) std::filesystem::create_directories(o.out);

  MinimizeRunsReport report;
  std::string summary_csv = "function,optimizer,options,steps,initial_loss,final_loss,distance_to_minimum,diverged\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %-10s %12s %14s %12s  %s\n", "function", "optimizer", "start loss",
                "final loss", "|x - x*|", "steps");
  report.table = line;
  for (const auto& fn : o.functions) {
    const auto tf = make_test_function(fn, o.dim);
    for (const auto& choice : o.optimizers) {
      MinimizeOptions mo = o.base;
      mo.optimizer = choice.optimizer;
      mo.optimizer_options = choice.options;
      mo.x0 = parse_point(o.x0);
      TraceCsv trace(tf.dim);
      const bool want_trace = !o.trace.empty() || !o.out.empty();
      std::vector<double> curve_x, curve_loss;
      auto r = minimize(tf, mo, [&](const TraceRow& row) {
        if (want_trace) trace.add(row);
        curve_x.push_back(static_cast<double>(row.step));
        curve_loss.push_back(row.loss);
      });
      if (!o.trace.empty()) write_file_atomic(o.trace, trace.text());
      if (!o.out.empty()) write_file_atomic(o.out / (fn + "_" + choice.optimizer + ".csv"), trace.text());
      const double dist = distance(r.x, tf.minimizer);
      std::string opts;
      for (const auto& [k, v] : choice.options) opts += (opts.empty() ? "" : " ") + k + "=" + v;
      nlohmann::json j = {{"function", fn},          {"dim", tf.dim},
                          {"optimizer", choice.optimizer}, {"options", choice.options},
                          {"steps", r.steps},         {"initial_loss", number_or_null(r.initial_loss)},
                          {"loss", number_or_null(r.loss)},
                          {"distance_to_minimum", number_or_null(dist)}, {"diverged", !r.finite}};
      nlohmann::json xs = nlohmann::json::array();
      for (float v : r.x) xs.push_back(number_or_null(v));
      j["x"] = xs;
      curve_x.insert(curve_x.begin(), 0.0);  // the start point
      curve_loss.insert(curve_loss.begin(), r.initial_loss);
      j["curve"] = report::curve_json("step", curve_x, {{"loss", curve_loss}});
      report.runs.push_back(j);
      std::snprintf(line, sizeof line, "%-16s %-10s %12s %14s %12s  %lld%s\n", fn.c_str(), choice.optimizer.c_str(),
                    format_number(r.initial_loss).c_str(), r.finite ? format_number(r.loss).c_str() : "diverged",
                    r.finite ? format_number(dist).c_str() : "-", static_cast<long long>(r.steps),
                    r.finite ? "" : " (stopped: loss or x not finite)");
      report.table += line;
      summary_csv += fn + ',' + choice.optimizer + ",\"" + opts + "\"," + std::to_string(r.steps) + ',' +
                     format_number(r.initial_loss) + ',' + format_number(r.loss) + ',' + format_number(dist) + ',' +
                     (r.finite ? "false" : "true") + '\n';
    }
  }
  if (!o.out.empty()) {
    write_file_atomic(o.out / "summary.csv", summary_csv);
    write_file_atomic(o.out / "summary.json", nlohmann::json{{"runs", report.runs}}.dump(2) + "\n");
  }
  return report;
}

nlohmann::json minimize_json(const MinimizeRunsReport& r) {
  return r.runs.size() == 1 ? r.runs[0] : nlohmann::json{{"runs", r.runs}};
}

std::string minimize_text(const MinimizeRunsReport& r, const std::filesystem::path& out) {
  std::string text;
  if (r.runs.size() == 1) {
    const auto& j = r.runs[0];
    text = "minimize " + j["function"].get<std::string>() + " (dim " + j["dim"].dump() + ") with " +
           j["optimizer"].get<std::string>() + ", " + j["steps"].dump() + " steps\n";
  }
  text += r.table;
  if (!out.empty()) text += "wrote " + (out / "summary.csv").string() + "\n";
  return text;
}

}  // namespace adakit::train
