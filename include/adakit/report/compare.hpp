// Comparing optimizers over seeds: the runs of one task (each a JSON object with its final metrics and
// a "curve", report/curve.hpp), summarised per optimizer as mean ± sample std over the seeds, each curve
// averaged over the seeds on one plot, a text table and summary.csv. run_comparison starts the runs
// (the adakit binary, once per optimizer and seed) and hands their JSON to a Comparison.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace adakit::report {

// Mean and sample standard deviation (n - 1; 0 for one value or equal values) of the finite values;
// values keeps them all. n = 0: mean and std are NaN.
struct Stat {
  double mean = std::numeric_limits<double>::quiet_NaN(), std = std::numeric_limits<double>::quiet_NaN();
  std::int64_t n = 0;
  std::vector<double> values;
};
Stat stat_of(std::vector<double> values);

// The final metrics compared for a task (train, minimize, rl), in table order; empty for another task.
const std::vector<std::string>& compared_metrics(const std::string& task);

class Comparison {
 public:
  Comparison(std::string task, std::int64_t seeds, std::uint64_t first_seed);

  // One run of the optimizer spec `label` (a new label is appended to the order); adds "seed" to it.
  // A run counts as diverged when it says so or skipped steps.
  void add(const std::string& label, std::uint64_t seed, nlohmann::json run);

  // Per label: {"optimizer", "metrics": {key: {"mean", "std", "n", "values"}}, "diverged_runs", "runs"}.
  nlohmann::json results() const;
  // One plot per curve series, every label a line of its mean over seeds (point i averages the runs
  // that reached it); compare_<series>.{png,svg} in dir. Returns the image names; on_message hears
  // why an image is missing.
  nlohmann::json write_plots(const std::filesystem::path& dir,
                             const std::function<void(const std::string&)>& on_message) const;
  // optimizer,metric,mean,std,n lines (numbers that read back exactly; "nan" when none).
  std::string summary_csv() const;
  // The text table: a column per metric some run reports, "diverged" counts, the seeds.
  std::string table() const;

 private:
  struct Entry {
    std::string label;
    nlohmann::json runs = nlohmann::json::array();
    std::map<std::string, std::vector<double>> finals;
    std::int64_t diverged = 0;
    std::string x;  // the curves' x name
    std::map<std::string, std::vector<std::vector<double>>> points, values;  // series -> per run
  };
  std::map<std::string, Stat> stats(const Entry& e) const;
  Entry& entry(const std::string& label);

  std::string task_;
  std::int64_t seeds_;
  std::uint64_t first_seed_;
  std::vector<Entry> entries_;
};

// `adakit compare` as a library call: each run is `program --threads N TASK... --optimizer SPEC --seed S
// --json` (core/process.hpp, one after another so that timings stay comparable); its one JSON object
// (final metrics and "curve") is read from its stdout.
struct CompareOptions {
  std::filesystem::path program;   // the adakit binary
  std::vector<std::string> specs;  // optimizer specs (NAME or NAME:key=value,...); {"all"}: the six classics
  std::int64_t seeds = 3;          // runs per spec, with seeds seed, seed + 1, ...
  std::uint64_t seed = 0;
  std::filesystem::path out;       // empty: no files; else the plots, summary.csv and summary.json
  std::vector<std::string> task;   // train | minimize | rl, then that command's flags
};

// UsageError: no task, another task, seeds outside [1, 1000], a task flag that compare sets for each run
// (--optimizer, --seed, --json, ...) or that does not apply (--checkpoint, --resume), --function all.
void check_compare_task(const CompareOptions& options);

struct ComparisonReport {
  nlohmann::json summary;  // task, seeds, first_seed, results (Comparison::results), plots (with out)
  std::string table;       // Comparison::table
};

// Checks the task, runs every spec with every seed, writes the files. on_message hears each run as it
// starts ("SPEC seed S ...") and why a plot is missing. A run that exits 1 with {"diverged": true} counts
// as a diverged run; another failure is an error naming the run and its stderr (UsageError for exit 2).
ComparisonReport run_comparison(const CompareOptions& options,
                                const std::function<void(const std::string&)>& on_message = {});

}  // namespace adakit::report
