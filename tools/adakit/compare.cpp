// adakit compare: one task (train, minimize or rl, with its own flags) run with several optimizers
// and seeds; final metrics as mean ± std over seeds, and each curve averaged over seeds on one plot.
//
//   adakit compare --optimizers adagrad,sgd:lr=0.1,adam --seeds 5 --out cmp train --data iris --epochs 50
//
// report::run_comparison starts this same binary once per run (no shell) with the task's flags plus
// --optimizer SPEC --seed S --json and reads its one JSON object (final metrics and "curve").
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "adakit/report/compare.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct CompareFlags {
  report::CompareOptions options;
  std::string optimizers = "adagrad,sgd,adam";
  Output output;
};

int run_compare(CompareFlags& f) {
  auto& o = f.options;
  o.program = std::filesystem::read_symlink("/proc/self/exe");
  o.specs = split_optimizer_list(f.optimizers);
  const auto r = report::run_comparison(o, [talk = f.output.talk()](const std::string& m) {
    if (talk) std::fprintf(stderr, "compare: %s\n", m.c_str());
  });
  const std::string wrote = o.out.empty() ? "" : "wrote " + o.out.string() + "/summary.json, summary.csv and the plots\n";
  return f.output.print(r.summary, r.table + wrote);
}

}  // namespace

void add_compare(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "compare", "run one task (train, minimize or rl) with several optimizers and seeds: mean ± std and curves");
  auto f = std::make_shared<CompareFlags>();
  add_value(*app, "--optimizers,-O", f->optimizers,
            "comma list of optimizer specs, NAME or NAME:key=value,... (e.g. adagrad,sgd:lr=0.1,adam), or 'all'");
  add_value(*app, "--seeds", f->options.seeds, "runs per optimizer, with seeds --seed, --seed + 1, ...");
  add_value(*app, "--seed", f->options.seed, "the first seed");
  app->add_option("--out", f->options.out, "directory for the plots (one per curve), summary.json and summary.csv");
  add_output_flags(*app, f->output,
                   "print one JSON object: per optimizer, each metric's mean, std and values, and every run");
  app->prefix_command();  // everything from the first positional (TASK) on is the task's: app->remaining()
  app->footer(
      "TASK: train | minimize | rl, then that command's flags (compare sets --optimizer, --seed and --json).\n"
      "Examples:\n"
      "  adakit compare --optimizers adagrad,sgd:lr=0.1,adam --seeds 5 --out cmp train --data iris --epochs 50\n"
      "  adakit compare --optimizers adagrad:lr=0.5,rmsprop minimize --function rosenbrock --steps 2000\n"
      "  adakit compare --optimizers adagrad:lr=3,sgd:lr=0.5 --seeds 3 rl cartpole --episodes 300");
  app->callback([&action, app, f] {
    f->options.task = app->remaining();
    action = [f] { return run_compare(*f); };
  });
}

}  // namespace adakit::cli
