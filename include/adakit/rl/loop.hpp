// The episode loop: train an agent on an environment with an epsilon-greedy schedule, and evaluate
// its greedy policy on fresh seeds.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "adakit/rl/agents.hpp"
#include "adakit/rl/env.hpp"

namespace adakit::rl {

// epsilon(e) = end + (start - end) * max(0, 1 - e / decay_episodes) for episode e = 0, 1, ...:
// linear from start to end over decay_episodes, then end. decay_episodes = 0: end from the start.
struct EpsilonSchedule {
  double start = 1.0, end = 0.01;
  std::int64_t decay_episodes = 500;
  double at(std::int64_t episode) const;
  void validate() const;
};

// Seed of episode `episode` of stream `stream` (0 training, 1 evaluation): distinct, reproducible.
std::uint64_t episode_seed(std::uint64_t seed, std::uint64_t stream, std::int64_t episode);

struct TrainOptions {
  std::int64_t episodes = 1000;
  std::uint64_t seed = 0;  // episode e starts with env.reset(episode_seed(seed, 0, e))
  EpsilonSchedule epsilon;
  double solved_return = std::numeric_limits<double>::infinity();  // threshold on the window mean
  std::int64_t window = 100;                                       // episodes in the running mean
  bool stop_when_solved = false;
  void validate() const;
};

struct EpisodeStats {
  std::int64_t episode = 0;  // 1-based
  double ret = 0.0;          // undiscounted return
  std::int64_t steps = 0;
  double epsilon = 0.0;
  double mean_window = 0.0;  // mean return of the last min(episode, window) episodes
};

struct TrainResult {
  std::vector<EpisodeStats> episodes;
  // First episode at which the mean return of the last `window` episodes (a full window) reached
  // solved_return; empty if never.
  std::optional<std::int64_t> episodes_to_solve;
  std::int64_t total_steps = 0;
  double seconds = 0.0;
  bool diverged = false;  // stopped: a TD error was not finite
};

// Runs the episodes. on_episode (optional) sees each episode's stats; returning true stops training.
TrainResult train(Env& env, LinearAgent& agent, const TrainOptions& options,
                  const std::function<bool(const EpisodeStats&)>& on_episode = {});

struct EvalResult {
  std::vector<double> returns;
  double mean = 0.0, stddev = 0.0, min = 0.0, max = 0.0;
};

// `episodes` episodes with actions chosen epsilon-greedily (0: greedy), started from
// env.reset(episode_seed(seed, 1, i)) — seeds the training stream never uses. No learning.
EvalResult evaluate(Env& env, LinearAgent& agent, std::int64_t episodes, std::uint64_t seed, double epsilon = 0.0);

}  // namespace adakit::rl
