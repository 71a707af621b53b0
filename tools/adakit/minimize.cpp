// adakit minimize: a built-in test function, any optimizer, any option; trace CSV and JSON output.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adakit/train/minimize_runs.hpp"
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

int run_minimize(const MinimizeFlags& f) {
  train::MinimizeRunsOptions o;
  if (f.function == "all") {
    for (const auto& info : train::test_functions()) o.functions.emplace_back(info.name);
  } else {
    o.functions.push_back(f.function);
  }
  for (auto& c : resolve_optimizers(f.opt)) o.optimizers.push_back({c.name, c.options});
  o.dim = f.dim;
  o.base.schedule = f.opt.schedule;
  o.base.clip_norm = f.opt.clip_norm;
  o.base.clip_value = f.opt.clip_value;
  o.base.steps = f.steps;
  o.base.seed = f.seed;
  o.x0 = f.x0;
  o.trace = f.trace;
  o.out = f.out;
  const auto r = train::minimize_runs(o);
  const bool single = o.functions.size() == 1 && o.optimizers.size() == 1;
  if (f.json) {
    std::cout << (single ? r.runs[0] : nlohmann::json{{"runs", r.runs}}).dump() << "\n";
  } else if (!f.quiet) {
    if (single) {
      const auto& j = r.runs[0];
      std::cout << "minimize " << j["function"].get<std::string>() << " (dim " << j["dim"] << ") with "
                << j["optimizer"].get<std::string>() << ", " << j["steps"] << " steps\n";
    }
    std::cout << r.table;
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
