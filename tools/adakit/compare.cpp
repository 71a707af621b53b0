// adakit compare: one task (train, minimize or rl, with its own flags) run with several optimizers
// and seeds; final metrics as mean ± std over seeds, and each curve averaged over seeds on one plot.
//
//   adakit compare --optimizers adagrad,sgd:lr=0.1,adam --seeds 5 --out cmp train --data iris --epochs 50
//
// Each run is this same binary started as a child process (no shell) with the task's flags plus
// --optimizer SPEC --seed S --json --quiet; its one JSON object (final metrics and "curve", see
// common.hpp) is read from its stdout. Children run one after another, so timings stay comparable.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/report/plot.hpp"
#include "common.hpp"
#include "subcommands.hpp"

extern char** environ;

namespace adakit::cli {
namespace {

struct CompareFlags {
  std::string optimizers = "adagrad,sgd,adam";
  std::int64_t seeds = 3;
  std::uint64_t seed = 0;
  std::string out;
  bool json = false, quiet = false;
  std::vector<std::string> task;  // TASK and its flags
};

struct ChildResult {
  int code = 0;
  std::string out, err;
};

// Runs argv[0] with argv, stdout and stderr captured (both drained together: no pipe deadlock).
ChildResult run_child(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw Error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ChildResult r;
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw Error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

// The final metrics compare reports for each task, in table order (those a run prints).
const std::vector<std::string>& metric_keys(const std::string& task) {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"train", {"test_accuracy", "test_mse", "test_loss", "train_loss", "train_accuracy", "train_mse", "seconds"}},
      {"minimize", {"loss", "distance_to_minimum"}},
      {"rl", {"eval_mean_return", "final_mean100", "episodes_to_solve", "train_seconds"}}};
  return keys.at(task);
}

struct Stat {
  double mean = NAN, std = NAN;
  std::int64_t n = 0;
  std::vector<double> values;
};

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

int run_compare(const CompareFlags& f) {
  if (f.task.empty()) throw UsageError("name the task to compare: train, minimize or rl, then its flags", {"", 0, "task"});
  const std::string task = f.task[0];
  if (task != "train" && task != "minimize" && task != "rl")
    throw UsageError("compare runs train, minimize or rl, not '" + task + "'", {"", 0, "task"});
  if (f.seeds < 1 || f.seeds > 1000) throw UsageError("--seeds must be in [1, 1000]", {"", 0, "seeds"});
  static const std::set<std::string> owned = {"--optimizer", "-O", "--seed", "--json", "--quiet", "-q", "--save",
                                              "--out", "--trace", "--curve", "--help", "-h"};
  for (std::size_t i = 1; i < f.task.size(); ++i) {
    const std::string& a = f.task[i];
    const std::string name = a.substr(0, a.find('='));
    if (owned.contains(name))
      throw UsageError(name + " is set by compare for each run (use compare's --optimizers, --seeds, --seed, --out, --json)",
                       {"", 0, name});
    if (name == "--checkpoint" || name == "--resume" || name == "--checkpoint-every")
      throw UsageError(name + " does not apply to compare (its runs would share one checkpoint)", {"", 0, name});
  }
  if (task == "minimize")
    for (const auto& a : f.task)
      if (a == "all") throw UsageError("compare runs one function at a time (not --function all)", {"", 0, "function"});
  std::vector<std::string> specs =
      f.optimizers == "all" ? std::vector<std::string>{"sgd", "adagrad", "adam", "adamw", "rmsprop", "adadelta"}
                            : split_optimizer_list(f.optimizers);
  if (specs.empty()) throw UsageError("no optimizer given", {"", 0, "optimizers"});
  if (std::set<std::string>(specs.begin(), specs.end()).size() != specs.size())
    throw UsageError("an optimizer spec is listed twice in --optimizers", {"", 0, "optimizers"});

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto& keys = metric_keys(task);
  const bool talk = !f.quiet && !f.json;
  nlohmann::json results = nlohmann::json::array();
  struct Curves {
    std::string x;
    std::map<std::string, std::vector<std::vector<double>>> points, values;  // series -> per run
  };
  std::vector<Curves> curves(specs.size());
  std::vector<std::map<std::string, Stat>> stats(specs.size());
  std::vector<std::int64_t> diverged_runs(specs.size(), 0);  // runs that diverged (or skipped non-finite steps)
  for (std::size_t o = 0; o < specs.size(); ++o) {
    nlohmann::json runs = nlohmann::json::array();
    std::map<std::string, std::vector<double>> finals;
    std::int64_t diverged = 0;
    for (std::int64_t k = 0; k < f.seeds; ++k) {
      const std::uint64_t seed = f.seed + static_cast<std::uint64_t>(k);
      std::vector<std::string> argv = {self, "--threads", std::to_string(num_threads())};
      argv.insert(argv.end(), f.task.begin(), f.task.end());
      for (const std::string extra : {"--optimizer", specs[o].c_str(), "--seed"}) argv.push_back(extra);
      argv.push_back(std::to_string(seed));
      argv.push_back("--json");
      if (talk) std::fprintf(stderr, "compare: %s seed %llu ...\n", specs[o].c_str(), static_cast<unsigned long long>(seed));
      const auto r = run_child(argv);
      // A run that diverged may exit 1 after printing its JSON (rl does): it counts as a diverged run.
      nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
      const bool diverged_run = r.code == 1 && j.is_object() && j.value("diverged", false);
      if (r.code != 0 && !diverged_run) {
        std::string msg = r.err;
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        const std::string what = "the run '" + specs[o] + "' seed " + std::to_string(seed) + " failed: " + msg;
        if (r.code == 2) throw UsageError(what);
        throw Error(what);
      }
      if (!j.is_object()) throw Error("the run '" + specs[o] + "' seed " + std::to_string(seed) + " printed no JSON object");
      if (j.contains("runs")) throw UsageError("compare runs one task at a time (one function, one optimizer)");
      for (const auto& key : keys)
        if (j.contains(key)) finals[key].push_back(number(j[key]));
      if (j.value("diverged", false) || (j.contains("skipped_steps") && number(j["skipped_steps"]) > 0)) ++diverged;
      if (j.contains("curve")) {
        const auto& c = j["curve"];
        curves[o].x = c.value("x", std::string("step"));
        std::vector<double> xs;
        for (const auto& v : c["points"]) xs.push_back(number(v));
        for (const auto& [name, ys] : c["series"].items()) {
          std::vector<double> y;
          for (const auto& v : ys) y.push_back(number(v));
          curves[o].points[name].push_back(xs);
          curves[o].values[name].push_back(y);
        }
      }
      j["seed"] = seed;
      runs.push_back(j);
    }
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& key : keys) {
      if (!finals.contains(key)) continue;
      const Stat s = stat_of(finals[key]);
      stats[o][key] = s;
      metrics[key] = {{"mean", s.n ? nlohmann::json(s.mean) : nlohmann::json(nullptr)},
                      {"std", s.n ? nlohmann::json(s.std) : nlohmann::json(nullptr)},
                      {"n", s.n}};
      nlohmann::json values = nlohmann::json::array();
      for (double v : s.values) values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
      metrics[key]["values"] = values;
    }
    diverged_runs[o] = diverged;
    results.push_back({{"optimizer", specs[o]}, {"metrics", metrics}, {"diverged_runs", diverged}, {"runs", runs}});
  }

  // Mean curve over seeds per optimizer and series: point i averages the runs that reached it.
  std::map<std::string, report::PlotSpec> plots;
  std::vector<std::string> plot_order;
  for (std::size_t o = 0; o < specs.size(); ++o) {
    for (const auto& [name, runs] : curves[o].values) {
      std::size_t len = 0;
      for (const auto& r : runs) len = std::max(len, r.size());
      report::Series s;
      s.label = specs[o];
      for (std::size_t i = 0; i < len; ++i) {
        double sum = 0.0, x = NAN;
        std::size_t n = 0;
        for (std::size_t r = 0; r < runs.size(); ++r) {
          if (i >= runs[r].size() || !std::isfinite(runs[r][i])) continue;
          sum += runs[r][i];
          x = curves[o].points[name][r][i];
          ++n;
        }
        if (n == 0) continue;
        s.x.push_back(x);
        s.y.push_back(sum / static_cast<double>(n));
      }
      if (!plots.contains(name)) {
        plot_order.push_back(name);
        auto& p = plots[name];
        p.title = task + ": " + name + " (mean over " + std::to_string(f.seeds) + " seed" + (f.seeds > 1 ? "s" : "") + ")";
        p.xlabel = curves[o].x;
        p.ylabel = name;
        p.logy = task == "minimize" || name.ends_with("loss") || name.ends_with("mse");
      }
      plots[name].series.push_back(std::move(s));
    }
  }
  nlohmann::json summary = {{"task", f.task}, {"seeds", f.seeds}, {"first_seed", f.seed}, {"results", results}};
  if (!f.out.empty()) {
    std::filesystem::create_directories(f.out);
    nlohmann::json files = nlohmann::json::array();
    for (const auto& name : plot_order) {
      auto& p = plots[name];
      if (p.logy)  // a log axis cannot show values <= 0 (a loss of exactly 0); keep the linear axis then
        for (const auto& s : p.series)
          for (double y : s.y)
            if (y <= 0) p.logy = false;
      const auto pf = report::write_plot(p, f.out, "compare_" + safe_name(name));
      if (!pf.message.empty() && talk) std::fprintf(stderr, "compare: %s\n", pf.message.c_str());
      if (!pf.png.empty()) files.push_back(pf.png.filename().string());
      if (!pf.svg.empty()) files.push_back(pf.svg.filename().string());
    }
    summary["plots"] = files;
    std::ostringstream csv;
    csv << "optimizer,metric,mean,std,n\n";
    for (std::size_t o = 0; o < specs.size(); ++o)
      for (const auto& [key, s] : stats[o])
        csv << '"' << specs[o] << "\"," << key << ',' << exact(s.mean) << ',' << exact(s.std) << ',' << s.n << '\n';
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.csv", csv.str());
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.json", summary.dump(1) + "\n");
  }
  if (f.json) {
    std::cout << summary.dump() << "\n";
    return 0;
  }
  if (f.quiet) return 0;
  std::vector<std::string> shown;
  for (const auto& key : keys)
    for (const auto& s : stats)
      if (s.contains(key) && s.at(key).n > 0) {
        shown.push_back(key);
        break;
      }
  std::size_t w = 9;
  for (const auto& s : specs) w = std::max(w, s.size());
  std::printf("%-*s", static_cast<int>(w + 2), "optimizer");
  for (const auto& key : shown) std::printf("%-26s", key.c_str());
  std::printf("\n");
  for (std::size_t o = 0; o < specs.size(); ++o) {
    std::printf("%-*s", static_cast<int>(w + 2), specs[o].c_str());
    for (const auto& key : shown) {
      const auto it = stats[o].find(key);
      std::string cell = it == stats[o].end() ? "-" : mean_pm_std(it->second);
      if (it != stats[o].end() && it->second.n == 0 && diverged_runs[o] > 0) cell = "diverged";
      else if (it != stats[o].end() && it->second.n < f.seeds) cell += " (n=" + std::to_string(it->second.n) + ")";
      std::printf("%-26s", cell.c_str());
    }
    std::printf("\n");
  }
  for (std::size_t o = 0; o < specs.size(); ++o)
    if (diverged_runs[o] > 0)
      std::printf("%s: %lld of %lld runs diverged (a loss or value not finite)\n", specs[o].c_str(),
                  static_cast<long long>(diverged_runs[o]), static_cast<long long>(f.seeds));
  std::printf("mean ± std (sample, n-1) over %lld seed%s (%llu..%llu)\n", static_cast<long long>(f.seeds),
              f.seeds > 1 ? "s" : "", static_cast<unsigned long long>(f.seed),
              static_cast<unsigned long long>(f.seed + static_cast<std::uint64_t>(f.seeds) - 1));
  if (!f.out.empty()) std::printf("wrote %s/summary.json, summary.csv and the plots\n", f.out.c_str());
  return 0;
}

}  // namespace

void add_compare(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "compare", "run one task (train, minimize or rl) with several optimizers and seeds: mean ± std and curves");
  auto f = std::make_shared<CompareFlags>();
  app->add_option("--optimizers,-O", f->optimizers,
                  "comma list of optimizer specs, NAME or NAME:key=value,... (e.g. adagrad,sgd:lr=0.1,adam), or 'all'")
      ->capture_default_str();
  app->add_option("--seeds", f->seeds, "runs per optimizer, with seeds --seed, --seed + 1, ...")->capture_default_str();
  app->add_option("--seed", f->seed, "the first seed")->capture_default_str();
  app->add_option("--out", f->out, "directory for the plots (one per curve), summary.json and summary.csv");
  app->add_flag("--json", f->json, "print one JSON object: per optimizer, each metric's mean, std and values, and every run");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  app->prefix_command();  // everything from the first positional (TASK) on is the task's: app->remaining()
  app->footer(
      "TASK: train | minimize | rl, then that command's flags (compare sets --optimizer, --seed and --json).\n"
      "Examples:\n"
      "  adakit compare --optimizers adagrad,sgd:lr=0.1,adam --seeds 5 --out cmp train --data iris --epochs 50\n"
      "  adakit compare --optimizers adagrad:lr=0.5,rmsprop minimize --function rosenbrock --steps 2000\n"
      "  adakit compare --optimizers adagrad:lr=3,sgd:lr=0.5 --seeds 3 rl cartpole --episodes 300");
  app->callback([&action, app, f] {
    f->task = app->remaining();
    action = [f] { return run_compare(*f); };
  });
}

}  // namespace adakit::cli
