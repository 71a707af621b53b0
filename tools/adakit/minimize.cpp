// adakit minimize: a built-in test function, any optimizer, any option; trace CSV and JSON output.
#include "adakit/train/minimize_runs.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct MinimizeFlags {
  train::MinimizeRunsOptions run;
  OptimizerFlags opt;
  std::string function = "quadratic";
  Output output;
};

int run_minimize(const MinimizeFlags& f) {
  auto o = f.run;
  o.functions = {f.function};
  for (auto& c : resolve_optimizers(f.opt)) o.optimizers.push_back({c.name, c.options});
  o.base.schedule = f.opt.schedule;
  o.base.clip_norm = f.opt.clip_norm;
  o.base.clip_value = f.opt.clip_value;
  const auto r = train::minimize_runs(o);
  return f.output.print(train::minimize_json(r), train::minimize_text(r, o.out));
}

}  // namespace

void add_minimize(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("minimize", "minimise a built-in test function with any optimizer");
  auto f = std::make_shared<MinimizeFlags>();
  auto& run = f->run;
  const auto names = join(train::test_functions(), [](const train::TestFunctionInfo& info) {
    return std::string(info.name) + " (dim " + std::to_string(info.default_dim) + ")";
  });
  add_value(*app, "--function,-f", f->function, "function: " + names + ", or 'all'");
  add_value(*app, "--dim", run.dim, "dimension (0 = the function's default)", CLI::Range(0, 10000000));
  add_value(*app, "--steps,-n", run.base.steps, "optimizer steps", CLI::Range(0, 100000000));
  app->add_option("--x0", run.x0, "start point: one value for every coordinate, or a comma list (default: the function's)");
  add_value(*app, "--seed", run.base.seed, "seed (the sparse function's random gradients)");
  add_optimizer_flags(*app, f->opt);
  app->add_option("--trace", run.trace, "write a CSV of every step: step, loss, x..., g..., effective lr...");
  app->add_option("--out", run.out, "directory for one trace CSV per run, summary.csv and summary.json");
  add_output_flags(*app, f->output, "print one JSON object (final x, loss, steps) instead of the table");
  action_for(app, action, [f] { return run_minimize(*f); });
}

}  // namespace adakit::cli
