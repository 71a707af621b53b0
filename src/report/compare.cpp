#include "adakit/report/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/process.hpp"
#include "adakit/report/curve.hpp"
#include "adakit/report/plot.hpp"

namespace adakit::report {
namespace {

double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_');
  return out;
}

// Shortest text that reads back as the same double (for summary.csv); "nan" when not finite.
std::string exact(double v) { return std::isfinite(v) ? nlohmann::json(v).dump() : "nan"; }

std::string mean_pm_std(const Stat& s) {
  if (s.n == 0) return "-";
  return format_number(s.mean) + " ± " + format_number(s.std);
}

}  // namespace

Stat stat_of(std::vector<double> v) {
  Stat s;
  s.values = v;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  s.n = static_cast<std::int64_t>(v.size());
  if (v.empty()) return s;
  double sum = 0.0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double sq = 0.0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  const bool all_equal = std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
  s.std = v.size() > 1 && !all_equal ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0;  // sample std (n - 1)
  return s;
}

const std::vector<std::string>& compared_metrics(const std::string& task) {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"train", {"test_accuracy", "test_mse", "test_loss", "train_loss", "train_accuracy", "train_mse", "seconds"}},
      {"minimize", {"loss", "distance_to_minimum"}},
      {"rl", {"eval_mean_return", "final_mean100", "episodes_to_solve", "train_seconds"}}};
  static const std::vector<std::string> none;
  const auto it = keys.find(task);
  return it == keys.end() ? none : it->second;
}

Comparison::Comparison(std::string task, std::int64_t seeds, std::uint64_t first_seed)
    : task_(std::move(task)), seeds_(seeds), first_seed_(first_seed) {}

Comparison::Entry& Comparison::entry(const std::string& label) {
  for (auto& e : entries_)
    if (e.label == label) return e;
  entries_.emplace_back();
  entries_.back().label = label;
  return entries_.back();
}

void Comparison::add(const std::string& label, std::uint64_t seed, nlohmann::json j) {
  auto& e = entry(label);
  for (const auto& key : compared_metrics(task_))
    if (j.contains(key)) e.finals[key].push_back(number(j[key]));
  if (j.value("diverged", false) || (j.contains("skipped_steps") && number(j["skipped_steps"]) > 0)) ++e.diverged;
  if (j.contains("curve")) {
    const auto& c = j["curve"];
    e.x = c.value("x", std::string("step"));
    std::vector<double> xs;
    for (const auto& v : c["points"]) xs.push_back(number(v));
    for (const auto& [name, ys] : c["series"].items()) {
      std::vector<double> y;
      for (const auto& v : ys) y.push_back(number(v));
      e.points[name].push_back(xs);
      e.values[name].push_back(y);
    }
  }
  j["seed"] = seed;
  e.runs.push_back(std::move(j));
}

std::map<std::string, Stat> Comparison::stats(const Entry& e) const {
  std::map<std::string, Stat> out;
  for (const auto& key : compared_metrics(task_))
    if (e.finals.contains(key)) out[key] = stat_of(e.finals.at(key));
  return out;
}

nlohmann::json Comparison::results() const {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& e : entries_) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [key, s] : stats(e)) {
      metrics[key] = {{"mean", s.n ? nlohmann::json(s.mean) : nlohmann::json(nullptr)},
                      {"std", s.n ? nlohmann::json(s.std) : nlohmann::json(nullptr)},
                      {"n", s.n}};
      nlohmann::json values = nlohmann::json::array();
      for (double v : s.values) values.push_back(number_or_null(v));
      metrics[key]["values"] = values;
    }
    results.push_back({{"optimizer", e.label}, {"metrics", metrics}, {"diverged_runs", e.diverged}, {"runs", e.runs}});
  }
  return results;
}

nlohmann::json Comparison::write_plots(const std::filesystem::path& dir,
                                       const std::function<void(const std::string&)>& on_message) const {
  std::map<std::string, PlotSpec> plots;
  std::vector<std::string> plot_order;
  for (const auto& e : entries_) {
    for (const auto& [name, runs] : e.values) {
      std::size_t len = 0;
      for (const auto& r : runs) len = std::max(len, r.size());
      Series s;
      s.label = e.label;
      for (std::size_t i = 0; i < len; ++i) {
        double sum = 0.0, x = NAN;
        std::size_t n = 0;
        for (std::size_t r = 0; r < runs.size(); ++r) {
          if (i >= runs[r].size() || !std::isfinite(runs[r][i])) continue;
          sum += runs[r][i];
          x = e.points.at(name)[r][i];
          ++n;
        }
        if (n == 0) continue;
        s.x.push_back(x);
        s.y.push_back(sum / static_cast<double>(n));
      }
      if (!plots.contains(name)) {
        plot_order.push_back(name);
        auto& p = plots[name];
        p.title = task_ + ": " + name + " (mean over " + std::to_string(seeds_) + " seed" + (seeds_ > 1 ? "s" : "") + ")";
        p.xlabel = e.x;
        p.ylabel = name;
        p.logy = task_ == "minimize" || name.ends_with("loss") || name.ends_with("mse");
      }
      plots[name].series.push_back(std::move(s));
    }
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& name : plot_order) {
    auto& p = plots[name];
    if (p.logy)  // a log axis cannot show values <= 0 (a loss of exactly 0); keep the linear axis then
      for (const auto& s : p.series)
        for (double y : s.y)
          if (y <= 0) p.logy = false;
    const auto pf = write_plot(p, dir, "compare_" + safe_name(name));
    if (!pf.message.empty() && on_message) on_message(pf.message);
    if (!pf.png.empty()) files.push_back(pf.png.filename().string());
    if (!pf.svg.empty()) files.push_back(pf.svg.filename().string());
  }
  return files;
}

std::string Comparison::summary_csv() const {
  std::string csv = "optimizer,metric,mean,std,n\n";
  for (const auto& e : entries_)
    for (const auto& [key, s] : stats(e))
      csv += '"' + e.label + "\"," + key + ',' + exact(s.mean) + ',' + exact(s.std) + ',' + std::to_string(s.n) + '\n';
  return csv;
}

std::string Comparison::table() const {
  std::vector<std::map<std::string, Stat>> stats_of;
  for (const auto& e : entries_) stats_of.push_back(stats(e));
  std::vector<std::string> shown;
  for (const auto& key : compared_metrics(task_))
    for (const auto& s : stats_of)
      if (s.contains(key) && s.at(key).n > 0) {
        shown.push_back(key);
        break;
      }
  std::size_t w = 9;
  for (const auto& e : entries_) w = std::max(w, e.label.size());
  std::string out;
  char buf[512];
  const auto cell = [&](const std::string& text, int width) {
    std::snprintf(buf, sizeof buf, "%-*s", width, text.c_str());
    out += buf;
  };
  cell("optimizer", static_cast<int>(w + 2));
  for (const auto& key : shown) cell(key, 26);
  out += '\n';
  for (std::size_t o = 0; o < entries_.size(); ++o) {
    cell(entries_[o].label, static_cast<int>(w + 2));
    for (const auto& key : shown) {
      const auto it = stats_of[o].find(key);
      std::string text = it == stats_of[o].end() ? "-" : mean_pm_std(it->second);
      if (it != stats_of[o].end() && it->second.n == 0 && entries_[o].diverged > 0) text = "diverged";
      else if (it != stats_of[o].end() && it->second.n < seeds_) text += " (n=" + std::to_string(it->second.n) + ")";
      cell(text, 26);
    }
    out += '\n';
  }
  for (const auto& e : entries_)
    if (e.diverged > 0) {
      std::snprintf(buf, sizeof buf, "%s: %lld of %lld runs diverged (a loss or value not finite)\n", e.label.c_str(),
                    static_cast<long long>(e.diverged), static_cast<long long>(seeds_));
      out += buf;
    }
  std::snprintf(buf, sizeof buf, "mean ± std (sample, n-1) over %lld seed%s (%llu..%llu)\n", static_cast<long long>(seeds_),
                seeds_ > 1 ? "s" : "", static_cast<unsigned long long>(first_seed_),
                static_cast<unsigned long long>(first_seed_ + static_cast<std::uint64_t>(seeds_) - 1));
  out += buf;
  return out;
}

namespace {

// One run: the program with the task's flags, --optimizer SPEC --seed S --json; its JSON object.
nlohmann::json run_one(const CompareOptions& o, const std::string& spec, std::uint64_t seed,
                       const std::function<void(const std::string&)>& on_message) {
  std::vector<std::string> argv = {o.program.string(), "--threads", std::to_string(num_threads())};
  argv.insert(argv.end(), o.task.begin(), o.task.end());
  for (const std::string extra : {"--optimizer", spec.c_str(), "--seed"}) argv.push_back(extra);
  argv.push_back(std::to_string(seed));
  argv.push_back("--json");
  if (on_message) on_message(spec + " seed " + std::to_string(seed) + " ...");
  const auto r = run_process(argv);
  // A run that diverged may exit 1 after printing its JSON (rl does): it counts as a diverged run.
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  const bool diverged_run = r.code == 1 && j.is_object() && j.value("diverged", false);
  if (r.code != 0 && !diverged_run) {
    std::string msg = r.err;
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    const std::string what = "the run '" + spec + "' seed " + std::to_string(seed) + " failed: " + msg;
    if (r.code == 2) throw UsageError(what);
    throw Error(what);
  }
  if (!j.is_object()) throw Error("the run '" + spec + "' seed " + std::to_string(seed) + " printed no JSON object");
  if (j.contains("runs")) throw UsageError("compare runs one task at a time (one function, one optimizer)");
  return j;
}

}  // namespace

void check_compare_task(const CompareOptions& o) {
  if (o.task.empty()) throw UsageError("name the task to compare: train, minimize or rl, then its flags", {"", 0, "task"});
  const std::string& task = o.task[0];
  if (task != "train" && task != "minimize" && task != "rl")
    throw UsageError("compare runs train, minimize or rl, not '" + task + "'", {"", 0, "task"});
  if (o.seeds < 1 || o.seeds > 1000) throw UsageError("--seeds must be in [1, 1000]", {"", 0, "seeds"});
  static const std::set<std::string> owned = {"--optimizer", "-O", "--seed", "--json", "--quiet", "-q", "--save",
                                              "--out", "--trace", "--curve", "--help", "-h"};
  for (std::size_t i = 1; i < o.task.size(); ++i) {
    const std::string& a = o.task[i];
    const std::string name = a.substr(0, a.find('='));
    if (owned.contains(name))
      throw UsageError(name + " is set by compare for each run (use compare's --optimizers, --seeds, --seed, --out, --json)",
                       {"", 0, name});
    if (name == "--checkpoint" || name == "--resume" || name == "--checkpoint-every")
      throw UsageError(name + " does not apply to compare (its runs would share one checkpoint)", {"", 0, name});
  }
  if (task == "minimize")
    for (const auto& a : o.task)
      if (a == "all") throw UsageError("compare runs one function at a time (not --function all)", {"", 0, "function"});
}

ComparisonReport run_comparison(const CompareOptions& o, const std::function<void(const std::string&)>& on_message) {
  check_compare_task(o);
  const std::vector<std::string> specs =
      o.specs == std::vector<std::string>{"all"}
          ? std::vector<std::string>{"sgd", "adagrad", "adam", "adamw", "rmsprop", "adadelta"}
          : o.specs;
  if (specs.empty()) throw UsageError("no optimizer given", {"", 0, "optimizers"});
  if (std::set<std::string>(specs.begin(), specs.end()).size() != specs.size())
    throw UsageError("an optimizer spec is listed twice in --optimizers", {"", 0, "optimizers"});
  Comparison cmp(o.task[0], o.seeds, o.seed);
  for (const auto& spec : specs)
    for (std::int64_t k = 0; k < o.seeds; ++k) {
      const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(k);
      cmp.add(spec, seed, run_one(o, spec, seed, on_message));
    }
  ComparisonReport r{{{"task", o.task}, {"seeds", o.seeds}, {"first_seed", o.seed}, {"results", cmp.results()}},
                     cmp.table()};
  if (!o.out.empty()) {
    std::filesystem::create_directories(o.out);
    r.summary["plots"] = cmp.write_plots(o.out, [&](const std::string& m) {
      if (on_message) on_message(m);
    });
    write_file_atomic(o.out / "summary.csv", cmp.summary_csv());
    write_file_atomic(o.out / "summary.json", r.summary.dump(1) + "\n");
  }
  return r;
}

}  // namespace adakit::report
