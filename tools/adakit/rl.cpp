// adakit rl: reinforcement learning on CartPole-v1 / MountainCar-v0 with a linear (tile-coded) or
// tabular Q-learner, or linear SARSA, whose TD updates are done by any optimizer of the registry.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/run.hpp"
#include "common.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct RlFlags {
  rl::RunOptions run;
  OptimizerFlags opt;
  std::string curve;
  std::int64_t progress = 100;
  bool json = false, quiet = false;
};

// An option whose default depends on the environment: unset unless given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& target, const std::string& help) {
  return app.add_option_function<T>(
      name, [&target](const T& v) { target = v; }, help);
}

int run_rl(RlFlags& f) {
  const auto choices = resolve_optimizers(f.opt);
  if (choices.size() != 1) throw UsageError("rl takes one optimizer", {"", 0, "optimizer"});
  auto o = f.run;
  o.optimizer = choices[0].name;
  o.optimizer_options = choices[0].options;
  o.schedule = f.opt.schedule;
  o.clip_norm = f.opt.clip_norm;
  o.clip_value = f.opt.clip_value;
  const bool talk = !f.quiet && !f.json;
  rl::RunCallbacks cb;
  if (talk) cb.on_start = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  cb.on_episode = [&](const rl::EpisodeStats& s) {
    if (talk && f.progress > 0 && s.episode % f.progress == 0)
      std::fprintf(stderr, "episode %6lld  return %6.1f  mean100 %7.2f  epsilon %.3f\n",
                   static_cast<long long>(s.episode), s.ret, s.mean_window, s.epsilon);
    return false;
  };
  const auto r = rl::run(o, cb);
  if (!f.curve.empty()) io::write_file_atomic(f.curve, rl::curve_csv(r.train));
  const auto& ev = r.eval;
  if (f.json) {
    std::cout << r.summary.dump() << "\n";
  } else if (!f.quiet) {
    std::printf("trained %lld episodes (%lld steps) in %.2fs; mean of the last 100: %.2f\n",
                static_cast<long long>(r.train.episodes.size()), static_cast<long long>(r.train.total_steps),
                r.train.seconds, r.train.episodes.empty() ? 0.0 : r.train.episodes.back().mean_window);
    if (r.train.episodes_to_solve)
      std::printf("solved at episode %lld (mean of the last 100 >= %g)\n",
                  static_cast<long long>(*r.train.episodes_to_solve), r.solved_return);
    else
      std::printf("not solved in training (mean of the last 100 never reached %g)\n", r.solved_return);
    if (!ev.returns.empty())
      std::printf("evaluation over %lld greedy episodes: mean %.2f  std %.2f  min %g  max %g%s\n",
                  static_cast<long long>(o.eval), ev.mean, ev.stddev, ev.min, ev.max,
                  ev.mean >= r.solved_return ? "  (solved)" : "");
    if (!f.curve.empty()) std::printf("wrote %s\n", f.curve.c_str());
  }
  if (r.train.diverged) {
    std::cerr << "adakit: error: the TD error became non-finite at episode " << r.train.episodes.size() + 1
              << "; lower --lr\n";
    return 1;
  }
  return 0;
}

std::string env_names() {
  std::string names;
  for (const auto& e : rl::environments()) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

std::string default_bounds() {
  std::string s;
  for (const auto& e : rl::environments()) {
    std::string box;
    for (std::size_t d = 0; d < e.feature_low.size(); ++d)
      box += (box.empty() ? "" : ",") + format_number(e.feature_low[d]) + ":" + format_number(e.feature_high[d]);
    s += (s.empty() ? "" : "; ") + std::string(e.name) + " " + box;
  }
  return s;
}

// "cartpole 2000, mountaincar 1000" for one field of the recipes.
template <class Get>
std::string per_env(Get get) {
  std::string s;
  for (const auto& r : rl::recipes()) s += (s.empty() ? "" : ", ") + std::string(r.env) + " " + get(r);
  return s;
}

}  // namespace

void add_rl(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "rl", "reinforcement learning: Q-learning / SARSA on CartPole-v1 or MountainCar-v0, TD updates by any optimizer");
  auto f = std::make_shared<RlFlags>();
  std::vector<std::string> names;
  for (const auto& e : rl::environments()) names.emplace_back(e.name);
  app->add_option("env", f->run.env, "environment: " + env_names())->required()->check(CLI::IsMember(names));
  app->add_option("--agent,-a", f->run.agent,
                  "q-linear (Q-learning over a tile coder) | sarsa-linear (SARSA over a tile coder) | "
                  "q-tabular (Q-learning over uniform bins)")
      ->capture_default_str()
      ->check(CLI::IsMember({"q-linear", "sarsa-linear", "q-tabular"}));
  add_optional(*app, "--episodes,-n", f->run.episodes, "training episodes (default: " + per_env([](const rl::Recipe& r) {
                                                     return std::to_string(r.episodes);
                                                   }) + ")")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_option("--seed", f->run.seed, "seed: start states, exploration, tie-breaking")->capture_default_str();
  app->add_option("--eval", f->run.eval, "greedy evaluation episodes after training, on seeds training never used")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
  add_optional(*app, "--gamma", f->run.gamma,
               "discount (default: " + per_env([](const rl::Recipe& r) { return format_number(r.gamma); }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-start", f->run.epsilon_start,
               "exploration at episode 0 (default: " + per_env([](const rl::Recipe& r) {
                 return format_number(r.epsilon.start);
               }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-end", f->run.epsilon_end,
               "exploration after the decay (default: " + per_env([](const rl::Recipe& r) {
                 return format_number(r.epsilon.end);
               }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-decay", f->run.epsilon_decay,
               "episodes of the linear decay from start to end (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.epsilon.decay_episodes);
               }) + ")")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_option("--initial-q", f->run.initial_q, "initial value of every Q(s, a)")->capture_default_str();
  add_optional(*app, "--tilings", f->run.tilings,
               "tile coder: offset tilings (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.tilings);
               }) + ")")
      ->check(CLI::Range(1, 1024));
  add_optional(*app, "--tiles", f->run.tiles,
               "tile coder: tiles per dimension (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.tiles);
               }) + ")")
      ->check(CLI::Range(1, 1 << 20));
  app->add_option("--table-size", f->run.table_size, "tile coder: hash the tiles into this many features (0 = no hashing)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 28));
  app->add_option(
      "--bins", f->run.bins,
      "q-tabular: bins per dimension, one value or a comma list (default: " + per_env([](const rl::Recipe& r) {
        std::string s;
        for (auto b : r.bins) s += (s.empty() ? "" : ",") + std::to_string(b);
        return s;
      }) + ")");
  app->add_option("--bounds", f->run.bounds,
                  "box the features span, lo:hi per dimension, comma-separated; observations are clipped to it "
                  "(default: " +
                      default_bounds() + ")");
  app->add_option("--gradients", f->run.gradients,
                  "auto (row-sparse when the optimizer takes it, else dense) | sparse | dense")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "sparse", "dense"}));
  app->add_option("--max-steps", f->run.max_steps, "episode time limit (0 = the environment's: 500, 200)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  add_optimizer_flags(*app, f->opt);
  app->get_option("--lr")->description(app->get_option("--lr")->get_description() + "; in rl adagrad defaults to " +
                                       per_env([](const rl::Recipe& r) { return format_number(r.adagrad_lr); }));
  app->add_flag("--stop-when-solved", f->run.stop_when_solved,
                "stop training once the mean of the last 100 reaches the threshold");
  app->add_option("--curve", f->curve, "write the learning curve CSV: episode, return, epsilon, mean100, steps");
  app->add_option("--progress", f->progress, "print a progress line every N episodes (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_flag("--json", f->json, "print one JSON summary instead of the text");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  action_for(app, action, [f] { return run_rl(*f); });
}

}  // namespace adakit::cli
