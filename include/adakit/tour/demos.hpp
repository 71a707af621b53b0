// The guided tour: one demo per section of the AdaGrad tutorial, each done right. Every number a demo
// reports comes from the run itself. Each writes its curves (CSV) and plots into <out>/<name>/ and
// returns a report section; `adakit demo all --out DIR` adds summary.json and report.html.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adakit/report/html.hpp"

namespace adakit::tour {

struct DemoOptions {
  std::filesystem::path out = "out";
  bool quick = false;  // smaller runs (the test suite's mode)
  std::uint64_t seed = 0;
  std::filesystem::path data_dir;
};

struct DemoResult {
  report::Section section;
  nlohmann::json summary;  // the demo's measured numbers
};

struct DemoInfo {
  std::string_view name;
  std::string_view title;
  DemoResult (*run)(const DemoOptions&);
};

std::span<const DemoInfo> demos();
// UsageError listing the names for an unknown one.
const DemoInfo& find_demo(std::string_view name);

// What `adakit demo` prints for a finished demo: "== title [status]", its summary, one line per metric
// and the note.
std::string section_text(const report::Section& section);

struct TourResult {
  std::vector<DemoResult> results;
  std::filesystem::path report;  // report.html
};
// Runs the named demos ("all" = every one) in order, writes summary.json and report.html into out.
// A demo whose data is missing is skipped (status "skipped", with how to get it), not failed.
TourResult run_tour(std::span<const std::string> names, const DemoOptions& options,
                    const std::function<void(const DemoResult&)>& on_done = {});

}  // namespace adakit::tour
