#include "adakit/rl/cartpole.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::rl {

CartPole::CartPole(std::int64_t max_episode_steps) : max_steps_(max_episode_steps) {
  if (max_steps_ < 1) throw UsageError("cartpole: max_episode_steps must be >= 1", {"", 0, "max_episode_steps"});
}

BoxSpace CartPole::observation_space() const {
  // As Gym: the angle limit doubled so that a failing observation is still inside the box.
  const double inf = std::numeric_limits<float>::max();
  return {{-2 * x_threshold, -inf, -2 * theta_threshold, -inf}, {2 * x_threshold, inf, 2 * theta_threshold, inf}};
}

Observation CartPole::reset(std::uint64_t seed) {
  rng_.seed(seed);
  return reset();
}

Observation CartPole::reset() {
  for (auto& v : state_) v = rng_.uniform(-0.05, 0.05);
  steps_ = 0;
  started_ = true;
  done_ = false;
  return {state_.begin(), state_.end()};
}

void CartPole::set_state(const State& state) {
  state_ = state;
  started_ = true;
  done_ = false;
}

StepResult CartPole::step(std::int64_t action) {
  if (action < 0 || action > 1)
    throw UsageError("cartpole: action " + std::to_string(action) + " is not 0 or 1", {"", 0, "action"});
  if (!started_) throw UsageError("cartpole: step() before reset()");
  if (done_) throw UsageError("cartpole: step() after the episode ended; call reset()");
  auto& [x, x_dot, theta, theta_dot] = state_;
  const double f = action == 1 ? force_mag : -force_mag;
  const double costheta = std::cos(theta), sintheta = std::sin(theta);
  const double temp = (f + polemass_length * theta_dot * theta_dot * sintheta) / total_mass;
  const double thetaacc =
      (gravity * sintheta - costheta * temp) / (length * (4.0 / 3.0 - masspole * costheta * costheta / total_mass));
  const double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
  x = x + tau * x_dot;
  x_dot = x_dot + tau * xacc;
  theta = theta + tau * theta_dot;
  theta_dot = theta_dot + tau * thetaacc;
  ++steps_;
  StepResult r;
  r.observation.assign(state_.begin(), state_.end());
  r.reward = 1.0;
  r.terminated = x < -x_threshold || x > x_threshold || theta < -theta_threshold || theta > theta_threshold;
  r.truncated = steps_ >= max_steps_;
  done_ = r.done();
  return r;
}

}  // namespace adakit::rl
