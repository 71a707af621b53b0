// MountainCar-v0 (Moore 1990; Sutton & Barto 2018, example 10.1) with the dynamics of Gymnasium's
// MountainCarEnv. Actions 0 (push left), 1 (no push), 2 (push right):
//   velocity += (action - 1) * 0.001 + cos(3 * position) * (-0.0025);  clip velocity to [-0.07, 0.07]
//   position += velocity;  clip position to [-1.2, 0.6];  if position == -1.2 and velocity < 0: velocity = 0
// Reward -1 per step. Terminated when position >= 0.5; truncated after max_episode_steps (200).
// Start: position uniform in [-0.6, -0.4) from a seeded Rng, velocity 0.
#pragma once
#include <array>

#include "adakit/core/rng.hpp"
#include "adakit/rl/env.hpp"

namespace adakit::rl {

class MountainCar final : public Env {
 public:
  static constexpr double min_position = -1.2, max_position = 0.6, max_speed = 0.07, goal_position = 0.5;
  static constexpr double force = 0.001, gravity = 0.0025;
  static constexpr std::int64_t default_max_steps = 200;

  using State = std::array<double, 2>;  // position, velocity

  explicit MountainCar(std::int64_t max_episode_steps = default_max_steps);

  std::string_view name() const override { return "mountaincar"; }
  BoxSpace observation_space() const override;
  std::int64_t num_actions() const override { return 3; }
  std::int64_t max_episode_steps() const override { return max_steps_; }
  Observation reset(std::uint64_t seed) override;
  Observation reset() override;
  StepResult step(std::int64_t action) override;
  std::int64_t elapsed_steps() const noexcept override { return steps_; }

  const State& state() const noexcept { return state_; }
  void set_state(const State& state);  // the episode continues; the step count is kept

 private:
  std::int64_t max_steps_;
  Rng rng_;
  State state_{};
  std::int64_t steps_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace adakit::rl
