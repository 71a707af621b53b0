// `adakit minimize` as a library call: every chosen test function with every chosen optimizer, each
// run's JSON (final x, loss, distance to the minimiser, a loss curve), a text table, and the files
// (one trace CSV per run, summary.csv, summary.json).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/optim/options.hpp"
#include "adakit/train/minimize.hpp"

namespace adakit::train {

struct MinimizeRunsOptions {
  std::vector<std::string> functions;  // names of test_functions(); {"all"}: every one
  std::int64_t dim = 0;                // 0: each function's default
  struct Choice {
    std::string optimizer;
    optim::OptionMap options;
  };
  std::vector<Choice> optimizers;
  MinimizeOptions base;      // schedule, clipping, steps, seed (optimizer and x0 are set per run)
  std::string x0;            // one value for every coordinate or a comma list; empty: the function's
  std::filesystem::path trace;  // one function and one optimizer: the trace CSV
  std::filesystem::path out;    // directory: <function>_<optimizer>.csv per run, summary.csv, summary.json
};

struct MinimizeRunsReport {
  nlohmann::json runs = nlohmann::json::array();  // one object per run, in order
  std::string table;                              // the text table, a header and one line per run
};

// UsageError for --trace with several runs, --x0 with several functions, an unknown function, a
// start point of another dimension.
MinimizeRunsReport minimize_runs(const MinimizeRunsOptions& options);

// What `adakit minimize --json` prints: the run's object when there is one run, else {"runs": [...]}.
nlohmann::json minimize_json(const MinimizeRunsReport& report);
// Its text: with one run a title ("minimize F (dim D) with O, N steps"), the table, and with an out
// directory "wrote OUT/summary.csv".
std::string minimize_text(const MinimizeRunsReport& report, const std::filesystem::path& out);

// One CSV row per step: step, loss, x_i..., g_i..., lr_i... (effective lr |Δx_i/g_i|, empty where g_i = 0).
class TraceCsv {
 public:
  explicit TraceCsv(std::int64_t dim);
  void add(const TraceRow& row);
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// "1,2.5" -> {1, 2.5}; UsageError naming x0 for a value that is not a number.
std::vector<float> parse_point(const std::string& text);

}  // namespace adakit::train
