// adakit rl: reinforcement learning on CartPole-v1 / MountainCar-v0 with a linear (tile-coded) or
// tabular Q-learner, or linear SARSA, whose TD updates are done by any optimizer of the registry.
#include <cstdio>
#include <iostream>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/run.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct RlFlags {
  rl::RunOptions run;
  OptimizerFlags opt;
  std::string curve;
  std::int64_t progress = 100;
  Output output;
};

int run_rl(const RlFlags& f) {
  const auto choices = resolve_optimizers(f.opt);
  if (choices.size() != 1) throw UsageError("rl takes one optimizer", {"", 0, "optimizer"});
  auto o = f.run;
  o.optimizer = choices[0].name;
  o.optimizer_options = choices[0].options;
  o.schedule = f.opt.schedule;
  o.clip_norm = f.opt.clip_norm;
  o.clip_value = f.opt.clip_value;
  const bool talk = f.output.talk();
  rl::RunCallbacks cb;
  if (talk) cb.on_start = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  cb.on_episode = [&](const rl::EpisodeStats& s) {
    if (talk && f.progress > 0 && s.episode % f.progress == 0) std::fprintf(stderr, "%s\n", rl::progress_line(s).c_str());
    return false;
  };
  const auto r = rl::run(o, cb);
  if (!f.curve.empty()) write_file_atomic(f.curve, rl::curve_csv(r.train));
  f.output.print(r.summary, rl::report_text(r) + (f.curve.empty() ? "" : "wrote " + f.curve + "\n"));
  if (!r.train.diverged) return 0;
  std::cerr << "adakit: error: the TD error became non-finite at episode " << r.train.episodes.size() + 1 << "; lower --lr\n";
  return 1;
}

// Help text ending in "(default: cartpole V, mountaincar W)" for a recipe field.
std::string per_env(const std::string& help, std::string_view field) {
  return help + " (default: " + rl::recipe_defaults(field) + ")";
}

}  // namespace

void add_rl(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "rl", "reinforcement learning: Q-learning / SARSA on CartPole-v1 or MountainCar-v0, TD updates by any optimizer");
  auto f = std::make_shared<RlFlags>();
  auto& run = f->run;
  std::vector<std::string> names;
  for (const auto& e : rl::environments()) names.emplace_back(e.name);
  const auto steps = CLI::Range(std::int64_t{0}, std::int64_t{100000000});
  const auto unit = CLI::Range(0.0, 1.0);
  app->add_option("env", run.env, "environment: " + join(names, std::identity{}))
      ->required()
      ->check(CLI::IsMember(names));
  add_value(*app, "--agent,-a", run.agent,
            "q-linear (Q-learning over a tile coder) | sarsa-linear (SARSA over a tile coder) | q-tabular "
            "(Q-learning over uniform bins)",
            CLI::IsMember({"q-linear", "sarsa-linear", "q-tabular"}));
  add_optional(*app, "--episodes,-n", run.episodes, per_env("training episodes", "episodes"))->check(steps);
  add_value(*app, "--seed", run.seed, "seed: start states, exploration, tie-breaking");
  add_value(*app, "--eval", run.eval, "greedy evaluation episodes after training, on seeds training never used",
            CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
  add_optional(*app, "--gamma", run.gamma, per_env("discount", "gamma"))->check(unit);
  add_optional(*app, "--epsilon-start", run.epsilon_start, per_env("exploration at episode 0", "epsilon_start"))
      ->check(unit);
  add_optional(*app, "--epsilon-end", run.epsilon_end, per_env("exploration after the decay", "epsilon_end"))->check(unit);
  add_optional(*app, "--epsilon-decay", run.epsilon_decay,
               per_env("episodes of the linear decay from start to end", "epsilon_decay"))
      ->check(steps);
  add_value(*app, "--initial-q", run.initial_q, "initial value of every Q(s, a)");
  add_optional(*app, "--tilings", run.tilings, per_env("tile coder: offset tilings", "tilings"))->check(CLI::Range(1, 1024));
  add_optional(*app, "--tiles", run.tiles, per_env("tile coder: tiles per dimension", "tiles"))
      ->check(CLI::Range(1, 1 << 20));
  add_value(*app, "--table-size", run.table_size, "tile coder: hash the tiles into this many features (0 = no hashing)",
            CLI::Range(std::int64_t{0}, std::int64_t{1} << 28));
  app->add_option("--bins", run.bins, per_env("q-tabular: bins per dimension, one value or a comma list", "bins"));
  app->add_option("--bounds", run.bounds,
                  "box the features span, lo:hi per dimension, comma-separated; observations are clipped to it "
                  "(default: " + rl::recipe_defaults("bounds") + ")");
  add_value(*app, "--gradients", run.gradients, "auto (row-sparse when the optimizer takes it, else dense) | sparse | dense",
            CLI::IsMember({"auto", "sparse", "dense"}));
  add_value(*app, "--max-steps", run.max_steps, "episode time limit (0 = the environment's: 500, 200)", steps);
  add_optimizer_flags(*app, f->opt);
  auto* lr = app->get_option("--lr");
  lr->description(lr->get_description() + "; in rl adagrad defaults to " + rl::recipe_defaults("adagrad_lr"));
  app->add_flag("--stop-when-solved", run.stop_when_solved,
                "stop training once the mean of the last 100 reaches the threshold");
  app->add_option("--curve", f->curve, "write the learning curve CSV: episode, return, epsilon, mean100, steps");
  add_value(*app, "--progress", f->progress, "print a progress line every N episodes (0 = never)", steps);
  add_output_flags(*app, f->output, "print one JSON summary instead of the text");
  action_for(app, action, [f] { return run_rl(*f); });
}

}  // namespace adakit::cli
