// Environments for reinforcement learning, in the shape of Gymnasium's API:
//   reset(seed) -> observation;  step(action) -> {observation, reward, terminated, truncated}.
// `terminated` means the task's own end (pole fell, goal reached): the value of what follows is 0.
// `truncated` means the time limit cut the episode: the state still has a value, so learners
// bootstrap from it. Both can be true on the same step. Observations are doubles (Gymnasium computes
// in float64 and returns float32; we return the float64 state).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace adakit::rl {

using Observation = std::vector<double>;

// A box of observations: low[i] <= x[i] <= high[i] (an unbounded coordinate has +-float max, as Gym).
struct BoxSpace {
  std::vector<double> low, high;
  std::size_t size() const noexcept { return low.size(); }
};

struct StepResult {
  Observation observation;
  double reward = 0.0;
  bool terminated = false;
  bool truncated = false;
  bool done() const noexcept { return terminated || truncated; }
};

class Env {
 public:
  virtual ~Env() = default;
  virtual std::string_view name() const = 0;
  virtual BoxSpace observation_space() const = 0;
  virtual std::int64_t num_actions() const = 0;  // actions are 0 .. num_actions() - 1
  virtual std::int64_t max_episode_steps() const = 0;

  // Seeds the start-state generator and starts an episode.
  virtual Observation reset(std::uint64_t seed) = 0;
  // Starts an episode, continuing the generator's stream.
  virtual Observation reset() = 0;
  // One step. UsageError on an action out of range, before reset, or after the episode ended.
  virtual StepResult step(std::int64_t action) = 0;
  // Steps taken in the current episode.
  virtual std::int64_t elapsed_steps() const = 0;
};

// The registry of environments: the one list of names (CLI, docs and tests walk it).
struct EnvInfo {
  std::string_view name;
  std::string_view summary;
  double solved_return;  // Gymnasium's reward_threshold: mean of 100 episodes at or above it
  // Suggested bounds for tile coding: the box the feature grid spans (observations are clipped to it).
  std::vector<double> feature_low, feature_high;
  std::unique_ptr<Env> (*make)(std::int64_t max_episode_steps);  // 0 = the environment's default
};

std::span<const EnvInfo> environments();
// UsageError listing the valid names when `name` is unknown.
const EnvInfo& find_env(std::string_view name);
std::unique_ptr<Env> make_env(std::string_view name, std::int64_t max_episode_steps = 0);

}  // namespace adakit::rl
