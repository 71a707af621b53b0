// adakit minimize: a built-in test function, any optimizer, any option; trace CSV and JSON output.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/train/minimize.hpp"
#include "common.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct MinimizeFlags {
  OptimizerFlags opt;
  std::string function = "quadratic";
  std::int64_t dim = 0, steps = 1000;
  std::string x0, trace, out;
  std::uint64_t seed = 0;
  bool json = false, quiet = false;
};

std::vector<float> parse_x0(const std::string& text) {
  std::vector<float> v;
  if (text.empty()) return v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(static_cast<float>(optim::parse_double("x0", item)));
  return v;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double distance(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(s);
}

// One CSV row per step: step, loss, x_i..., g_i..., lr_i... (effective lr |Δx_i/g_i|, empty where g_i = 0).
class TraceWriter {
 public:
  explicit TraceWriter(std::int64_t dim) {
    text_ << "step,loss";
    for (std::int64_t i = 0; i < dim; ++i) text_ << ",x" << i;
    for (std::int64_t i = 0; i < dim; ++i) text_ << ",g" << i;
    for (std::int64_t i = 0; i < dim; ++i) text_ << ",lr" << i;
    text_ << "\n";
  }
  void add(const train::TraceRow& r) {
    text_ << r.step << ',' << format_number(r.loss);
    for (float v : r.x) text_ << ',' << format_number(v);
    for (float v : r.grad) text_ << ',' << format_number(v);
    for (double v : r.effective_lr) {
      text_ << ',';
      if (!std::isnan(v)) text_ << format_number(v);
    }
    text_ << '\n';
  }
  void save(const std::filesystem::path& path) const { io::write_file_atomic(path, text_.str()); }

 private:
  std::ostringstream text_;
};

int run_minimize(const MinimizeFlags& f) {
  std::vector<std::string> functions;
  if (f.function == "all") {
    for (const auto& info : train::test_functions()) functions.emplace_back(info.name);
  } else {
    functions.push_back(f.function);
  }
  const auto choices = resolve_optimizers(f.opt);
  const bool single = functions.size() == 1 && choices.size() == 1;
  if (!f.trace.empty() && !single)
    throw UsageError("--trace takes one function and one optimizer; use --out DIR for several", {"", 0, "trace"});
  if (!f.x0.empty() && functions.size() > 1)
    throw UsageError("--x0 needs one --function (the functions differ in dimension)", {"", 0, "x0"});
  if (!f.out.empty()) std::filesystem::create_directories(f.out);

  nlohmann::json runs = nlohmann::json::array();
  std::ostringstream table, summary_csv;
  summary_csv << "function,optimizer,options,steps,initial_loss,final_loss,distance_to_minimum,diverged\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %-10s %12s %14s %12s  %s\n", "function", "optimizer", "start loss",
                "final loss", "|x - x*|", "steps");
  table << line;
  for (const auto& fn : functions) {
    const auto tf = train::make_test_function(fn, f.dim);
    for (const auto& choice : choices) {
      train::MinimizeOptions mo;
      mo.optimizer = choice.name;
      mo.optimizer_options = choice.options;
      mo.schedule = f.opt.schedule;
      mo.clip_norm = f.opt.clip_norm;
      mo.clip_value = f.opt.clip_value;
      mo.steps = f.steps;
      mo.x0 = parse_x0(f.x0);
      mo.seed = f.seed;
      TraceWriter trace(tf.dim);
      const bool want_trace = !f.trace.empty() || !f.out.empty();
      std::vector<double> curve_x, curve_loss;
      auto r = train::minimize(tf, mo, [&](const train::TraceRow& row) {
        if (want_trace) trace.add(row);
        curve_x.push_back(static_cast<double>(row.step));
        curve_loss.push_back(row.loss);
      });
      if (!f.trace.empty()) trace.save(f.trace);
      if (!f.out.empty()) trace.save(std::filesystem::path(f.out) / (fn + "_" + choice.name + ".csv"));
      const double dist = distance(r.x, tf.minimizer);
      std::string opts;
      for (const auto& [k, v] : choice.options) opts += (opts.empty() ? "" : " ") + k + "=" + v;
      nlohmann::json j = {{"function", fn},          {"dim", tf.dim},
                          {"optimizer", choice.name}, {"options", choice.options},
                          {"steps", r.steps},         {"initial_loss", number_or_null(r.initial_loss)},
                          {"loss", number_or_null(r.loss)},
                          {"distance_to_minimum", number_or_null(dist)}, {"diverged", !r.finite}};
      nlohmann::json xs = nlohmann::json::array();
      for (float v : r.x) xs.push_back(number_or_null(v));
      j["x"] = xs;
      curve_x.insert(curve_x.begin(), 0.0);  // the start point
      curve_loss.insert(curve_loss.begin(), r.initial_loss);
      j["curve"] = curve_json("step", curve_x, {{"loss", curve_loss}});
      runs.push_back(j);
      std::snprintf(line, sizeof line, "%-16s %-10s %12s %14s %12s  %lld%s\n", fn.c_str(), choice.name.c_str(),
                    format_number(r.initial_loss).c_str(), r.finite ? format_number(r.loss).c_str() : "diverged",
                    r.finite ? format_number(dist).c_str() : "-", static_cast<long long>(r.steps),
                    r.finite ? "" : " (stopped: loss or x not finite)");
      table << line;
      summary_csv << fn << ',' << choice.name << ",\"" << opts << "\"," << r.steps << ','
                  << format_number(r.initial_loss) << ',' << format_number(r.loss) << ',' << format_number(dist)
                  << ',' << (r.finite ? "false" : "true") << '\n';
    }
  }
  if (!f.out.empty()) {
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.csv", summary_csv.str());
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.json", nlohmann::json{{"runs", runs}}.dump(2) + "\n");
  }
  if (f.json) {
    std::cout << (single ? runs[0] : nlohmann::json{{"runs", runs}}).dump() << "\n";
  } else if (!f.quiet) {
    if (single) {
      const auto& j = runs[0];
      std::cout << "minimize " << j["function"].get<std::string>() << " (dim " << j["dim"] << ") with "
                << j["optimizer"].get<std::string>() << ", " << j["steps"] << " steps\n";
    }
    std::cout << table.str();
    if (!f.out.empty()) std::cout << "wrote " << (std::filesystem::path(f.out) / "summary.csv").string() << "\n";
  }
  return 0;
}

}  // namespace

void add_minimize(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("minimize", "minimise a built-in test function with any optimizer");
  auto f = std::make_shared<MinimizeFlags>();
  std::string names;
  for (const auto& info : train::test_functions())
    names += (names.empty() ? "" : ", ") + std::string(info.name) + " (dim " + std::to_string(info.default_dim) + ")";
  app->add_option("--function,-f", f->function, "function: " + names + ", or 'all'")->capture_default_str();
  app->add_option("--dim", f->dim, "dimension (0 = the function's default)")->capture_default_str()->check(CLI::Range(0, 10000000));
  app->add_option("--steps,-n", f->steps, "optimizer steps")->capture_default_str()->check(CLI::Range(0, 100000000));
  app->add_option("--x0", f->x0, "start point: one value for every coordinate, or a comma list (default: the function's)");
  app->add_option("--seed", f->seed, "seed (the sparse function's random gradients)")->capture_default_str();
  add_optimizer_flags(*app, f->opt);
  app->add_option("--trace", f->trace, "write a CSV of every step: step, loss, x..., g..., effective lr...");
  app->add_option("--out", f->out, "directory for one trace CSV per run, summary.csv and summary.json");
  app->add_flag("--json", f->json, "print one JSON object (final x, loss, steps) instead of the table");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  action_for(app, action, [f] { return run_minimize(*f); });
}

}  // namespace adakit::cli
