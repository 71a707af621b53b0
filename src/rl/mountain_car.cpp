#include "adakit/rl/mountain_car.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::rl {

MountainCar::MountainCar(std::int64_t max_episode_steps) : max_steps_(max_episode_steps) {
  if (max_steps_ < 1) throw UsageError("mountaincar: max_episode_steps must be >= 1", {"", 0, "max_episode_steps"});
}

BoxSpace MountainCar::observation_space() const { return {{min_position, -max_speed}, {max_position, max_speed}}; }

Observation MountainCar::reset(std::uint64_t seed) {
  rng_.seed(seed);
  return reset();
}

Observation MountainCar::reset() {
  state_ = {rng_.uniform(-0.6, -0.4), 0.0};
  steps_ = 0;
  started_ = true;
  done_ = false;
  return {state_.begin(), state_.end()};
}

void MountainCar::set_state(const State& state) {
  state_ = state;
  started_ = true;
  done_ = false;
}

StepResult MountainCar::step(std::int64_t action) {
  if (action < 0 || action > 2)
    throw UsageError("mountaincar: action " + std::to_string(action) + " is not 0, 1 or 2", {"", 0, "action"});
  if (!started_) throw UsageError("mountaincar: step() before reset()");
  if (done_) throw UsageError("mountaincar: step() after the episode ended; call reset()");
  auto& [position, velocity] = state_;
  velocity += static_cast<double>(action - 1) * force + std::cos(3 * position) * (-gravity);
  velocity = std::clamp(velocity, -max_speed, max_speed);
  position += velocity;
  position = std::clamp(position, min_position, max_position);
  if (position == min_position && velocity < 0) velocity = 0;
  ++steps_;
  StepResult r;
  r.observation.assign(state_.begin(), state_.end());
  r.reward = -1.0;
  r.terminated = position >= goal_position;
  r.truncated = steps_ >= max_steps_;
  done_ = r.done();
  return r;
}

}  // namespace adakit::rl
