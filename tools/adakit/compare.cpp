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

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/report/compare.hpp"
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

void check_task(const CompareFlags& f) {
  if (f.task.empty()) throw UsageError("name the task to compare: train, minimize or rl, then its flags", {"", 0, "task"});
  const std::string& task = f.task[0];
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
}

// One run: this binary with the task's flags, --optimizer SPEC --seed S --json; its JSON object.
nlohmann::json run_one(const CompareFlags& f, const std::string& spec, std::uint64_t seed, bool talk) {
  std::vector<std::string> argv = {std::filesystem::read_symlink("/proc/self/exe").string(), "--threads",
                                   std::to_string(num_threads())};
  argv.insert(argv.end(), f.task.begin(), f.task.end());
  for (const std::string extra : {"--optimizer", spec.c_str(), "--seed"}) argv.push_back(extra);
  argv.push_back(std::to_string(seed));
  argv.push_back("--json");
  if (talk) std::fprintf(stderr, "compare: %s seed %llu ...\n", spec.c_str(), static_cast<unsigned long long>(seed));
  const auto r = run_child(argv);
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

int run_compare(const CompareFlags& f) {
  check_task(f);
  std::vector<std::string> specs =
      f.optimizers == "all" ? std::vector<std::string>{"sgd", "adagrad", "adam", "adamw", "rmsprop", "adadelta"}
                            : split_optimizer_list(f.optimizers);
  if (specs.empty()) throw UsageError("no optimizer given", {"", 0, "optimizers"});
  if (std::set<std::string>(specs.begin(), specs.end()).size() != specs.size())
    throw UsageError("an optimizer spec is listed twice in --optimizers", {"", 0, "optimizers"});
  const bool talk = !f.quiet && !f.json;
  report::Comparison cmp(f.task[0], f.seeds, f.seed);
  for (const auto& spec : specs)
    for (std::int64_t k = 0; k < f.seeds; ++k) {
      const std::uint64_t seed = f.seed + static_cast<std::uint64_t>(k);
      cmp.add(spec, seed, run_one(f, spec, seed, talk));
    }
  nlohmann::json summary = {{"task", f.task}, {"seeds", f.seeds}, {"first_seed", f.seed}, {"results", cmp.results()}};
  if (!f.out.empty()) {
    std::filesystem::create_directories(f.out);
    summary["plots"] = cmp.write_plots(f.out, [talk](const std::string& m) {
      if (talk) std::fprintf(stderr, "compare: %s\n", m.c_str());
    });
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.csv", cmp.summary_csv());
    io::write_file_atomic(std::filesystem::path(f.out) / "summary.json", summary.dump(1) + "\n");
  }
  if (f.json) std::cout << summary.dump() << "\n";
  if (f.json || f.quiet) return 0;
  std::cout << cmp.table();
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
