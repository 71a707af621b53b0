// `adakit rl` as a library call: an agent and an environment built from names and the recipe's
// defaults (rl/recipes.hpp), trained, evaluated greedily, and summarised as JSON.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adakit/optim/options.hpp"
#include "adakit/rl/loop.hpp"

namespace adakit::rl {

// Unset optionals take the environment's recipe.
struct RunOptions {
  std::string env;                  // a name of environments()
  std::string agent = "q-linear";   // q-linear | sarsa-linear | q-tabular
  std::string optimizer = "adagrad";
  optim::OptionMap optimizer_options;  // adagrad without lr: the recipe's adagrad_lr
  std::string schedule = "constant";
  double clip_norm = 0.0, clip_value = 0.0;
  std::optional<std::int64_t> episodes, tilings, tiles, epsilon_decay;
  std::optional<double> gamma, epsilon_start, epsilon_end;
  std::string bins;    // q-tabular: bins per dimension, one value or a comma list; empty: the recipe's
  std::string bounds;  // "lo:hi,lo:hi,..." per observation dimension; empty: the environment's box
  std::string gradients = "auto";  // auto | sparse | dense
  std::int64_t table_size = 0;     // tile coder: hash into this many features (0 = no hashing)
  std::int64_t eval = 100;         // greedy evaluation episodes after training
  std::int64_t max_steps = 0;      // episode time limit (0 = the environment's)
  double initial_q = 0.0;
  std::uint64_t seed = 0;
  bool stop_when_solved = false;
};

struct RunCallbacks {
  std::function<void(const std::string&)> on_start;  // one line: agent, features, optimizer, episodes
  std::function<bool(const EpisodeStats&)> on_episode;  // true stops training
};

struct RunReport {
  TrainResult train;
  EvalResult eval;        // empty when training diverged
  double solved_return = 0.0;
  // env, agent, method, optimizer, options, gradients, features, feature_map, seed, gamma, episodes,
  // total_steps, final_mean100, solve_threshold, episodes_to_solve, eval_*, solved, diverged,
  // train_seconds, seconds, curve
  nlohmann::json summary;
};

// UsageError for an unknown name, flags of the other agent kind, bad bins or bounds.
RunReport run(const RunOptions& options, const RunCallbacks& callbacks = {});

// The text `adakit rl` prints after a run: the episodes and steps trained, whether (when) the mean of
// the last 100 reached the solve threshold, and the greedy evaluation.
std::string report_text(const RunReport& report);
// One episode's progress line (no '\n'): "episode N  return R  mean100 M  epsilon E".
std::string progress_line(const EpisodeStats& stats);

// The learning curve: "episode,return,epsilon,mean100,steps" and one line per episode (%.6g numbers).
std::string curve_csv(const TrainResult& result);

}  // namespace adakit::rl
