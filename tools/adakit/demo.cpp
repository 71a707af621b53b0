// adakit demo [NAME|all] --out DIR: the guided tour.
#include <cstdio>
#include <iostream>

#include "adakit/tour/demos.hpp"
#include "common.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {
struct DemoFlags {
  std::vector<std::string> names{"all"};
  std::string out = "out", data_dir;
  std::uint64_t seed = 0;
  bool quick = false, json = false;
};

int run_demo(const DemoFlags& f) {
  tour::DemoOptions o;
  o.out = f.out;
  o.quick = f.quick;
  o.seed = f.seed;
  o.data_dir = f.data_dir;
  nlohmann::json all = nlohmann::json::object();
  const auto tr = tour::run_tour(f.names, o, [&](const tour::DemoResult& r) {
    all[r.section.id] = r.summary;
    if (f.json) return;
    std::printf("== %s [%s]\n%s\n", r.section.title.c_str(), r.section.status.c_str(), r.section.summary.c_str());
    for (const auto& [k, v] : r.section.metrics) std::printf("   %-32s %s\n", k.c_str(), v.c_str());
    if (!r.section.note.empty()) std::printf("   note: %s\n", r.section.note.c_str());
    std::fflush(stdout);
  });
  if (f.json) std::cout << all.dump() << "\n";
  else std::printf("\nreport: %s\n", tr.report.string().c_str());
  return 0;
}
}  // namespace

void add_demo(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("demo", "the guided tour: one demo per section of the AdaGrad tutorial");
  auto f = std::make_shared<DemoFlags>();
  std::string names;
  for (const auto& d : tour::demos()) names += (names.empty() ? "" : ", ") + std::string(d.name);
  app->add_option("names", f->names, "demos to run: " + names + ", or all")->capture_default_str();
  app->add_option("--out,-o", f->out, "directory for CSVs, plots, summary.json and report.html")->capture_default_str();
  app->add_option("--seed", f->seed, "seed of every demo")->capture_default_str();
  app->add_option("--data-dir", f->data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  app->add_flag("--quick", f->quick, "smaller runs (seconds in all)");
  app->add_flag("--json", f->json, "print one JSON object of every demo's numbers");
  action_for(app, action, [f] { return run_demo(*f); });
}

}  // namespace adakit::cli
