// CartPole-v1, the classic control task of Barto, Sutton & Anderson (1983), with the dynamics of
// Gymnasium's CartPoleEnv (after Florian 2007, "Correct equations for the dynamics of the cart-pole
// system"), explicit Euler integration:
//   F        = +force_mag (action 1) or -force_mag (action 0)
//   temp     = (F + polemass_length * theta_dot^2 * sin(theta)) / total_mass
//   thetaacc = (g * sin(theta) - cos(theta) * temp) / (length * (4/3 - masspole * cos^2(theta) / total_mass))
//   xacc     = temp - polemass_length * thetaacc * cos(theta) / total_mass
//   x += tau * x_dot;  x_dot += tau * xacc;  theta += tau * theta_dot;  theta_dot += tau * thetaacc
// (positions move with the OLD velocities). Reward 1 on every step, the terminating one included.
// Terminated when |x| > 2.4 or |theta| > 12 degrees; truncated after max_episode_steps (500).
// Start state: each of (x, x_dot, theta, theta_dot) uniform in [-0.05, 0.05) from a seeded Rng.
#pragma once
#include <array>
#include <numbers>

#include "adakit/core/rng.hpp"
#include "adakit/rl/env.hpp"

namespace adakit::rl {

class CartPole final : public Env {
 public:
  static constexpr double gravity = 9.8, masscart = 1.0, masspole = 0.1, total_mass = masscart + masspole;
  static constexpr double length = 0.5;  // half the pole's length
  static constexpr double polemass_length = masspole * length;
  static constexpr double force_mag = 10.0, tau = 0.02;
  static constexpr double x_threshold = 2.4;
  static constexpr double theta_threshold = 12.0 * 2.0 * std::numbers::pi / 360.0;
  static constexpr std::int64_t default_max_steps = 500;

  using State = std::array<double, 4>;  // x, x_dot, theta, theta_dot

  explicit CartPole(std::int64_t max_episode_steps = default_max_steps);

  std::string_view name() const override { return "cartpole"; }
  BoxSpace observation_space() const override;
  std::int64_t num_actions() const override { return 2; }
  std::int64_t max_episode_steps() const override { return max_steps_; }
  Observation reset(std::uint64_t seed) override;
  Observation reset() override;
  StepResult step(std::int64_t action) override;
  std::int64_t elapsed_steps() const noexcept override { return steps_; }

  const State& state() const noexcept { return state_; }
  // Puts the system in `state` (the episode continues; the step count is kept). For tests and what-ifs.
  void set_state(const State& state);

 private:
  std::int64_t max_steps_;
  Rng rng_;
  State state_{};
  std::int64_t steps_ = 0;
  bool started_ = false, done_ = false;
};

}  // namespace adakit::rl
