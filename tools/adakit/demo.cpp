// adakit demo [NAME|all] --out DIR: the guided tour.
#include <iostream>

#include "adakit/tour/demos.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct DemoFlags {
  tour::DemoOptions options;
  std::vector<std::string> names{"all"};
  bool json = false;
};

int run_demo(const DemoFlags& f) {
  nlohmann::json all = nlohmann::json::object();
  const auto tr = tour::run_tour(f.names, f.options, [&](const tour::DemoResult& r) {
    all[r.section.id] = r.summary;
    if (!f.json) std::cout << tour::section_text(r.section) << std::flush;
  });
  if (f.json) std::cout << all.dump() << "\n";
  else std::cout << "\nreport: " << tr.report.string() << "\n";
  return 0;
}

}  // namespace

void add_demo(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("demo", "the guided tour: one demo per section of the AdaGrad tutorial");
  auto f = std::make_shared<DemoFlags>();
  auto& o = f->options;
  const auto names = join(tour::demos(), [](const tour::DemoInfo& d) { return d.name; });
  add_value(*app, "names", f->names, "demos to run: " + names + ", or all");
  app->add_option("--out,-o", o.out, "directory for CSVs, plots, summary.json and report.html")->default_str("out");
  add_value(*app, "--seed", o.seed, "seed of every demo");
  app->add_option("--data-dir", o.data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  app->add_flag("--quick", o.quick, "smaller runs (seconds in all)");
  app->add_flag("--json", f->json, "print one JSON object of every demo's numbers");
  action_for(app, action, [f] { return run_demo(*f); });
}

}  // namespace adakit::cli
