// CartPole-v1 and MountainCar-v0: single steps against the equations written out here in double,
// termination, truncation, seeded resets.
#include "adakit/rl/env.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/rl/cartpole.hpp"
#include "adakit/rl/mountain_car.hpp"

namespace {

using adakit::rl::CartPole;
using adakit::rl::MountainCar;

// Gym's CartPole-v1 step, written out independently of the class, with its constants spelled as numbers.
std::array<double, 4> cartpole_by_hand(std::array<double, 4> s, int action) {
  const double g = 9.8, mc = 1.0, mp = 0.1, l = 0.5, fmag = 10.0, tau = 0.02;
  const double total = mc + mp, pml = mp * l;
  const double force = action == 1 ? fmag : -fmag;
  const double x = s[0], xd = s[1], th = s[2], thd = s[3];
  const double temp = (force + pml * thd * thd * std::sin(th)) / total;
  const double thacc =
      (g * std::sin(th) - std::cos(th) * temp) / (l * (4.0 / 3.0 - mp * std::cos(th) * std::cos(th) / total));
  const double xacc = temp - pml * thacc * std::cos(th) / total;
  return {x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc};
}

TEST(CartPole, ConstantsAreGymsCartPoleV1) {
  EXPECT_EQ(CartPole::gravity, 9.8);
  EXPECT_EQ(CartPole::masscart, 1.0);
  EXPECT_EQ(CartPole::masspole, 0.1);
  EXPECT_EQ(CartPole::length, 0.5);
  EXPECT_EQ(CartPole::force_mag, 10.0);
  EXPECT_EQ(CartPole::tau, 0.02);
  EXPECT_EQ(CartPole::x_threshold, 2.4);
  EXPECT_DOUBLE_EQ(CartPole::theta_threshold, 12 * 2 * std::numbers::pi / 360);
  CartPole env;
  EXPECT_EQ(env.num_actions(), 2);
  EXPECT_EQ(env.max_episode_steps(), 500);
  EXPECT_EQ(env.observation_space().size(), 4u);
}

TEST(CartPole, SingleStepsMatchTheEquations) {
  const std::array<std::array<double, 4>, 4> starts{{
      {0.0, 0.0, 0.0, 0.0},
      {0.01, -0.02, 0.03, 0.04},
      {-1.3, 0.7, -0.15, 1.9},
      {2.0, -1.5, 0.2, -2.5},
  }};
  for (const auto& s : starts) {
    for (int a : {0, 1}) {
      CartPole env;
      env.reset(1);
      env.set_state(s);
      const auto r = env.step(a);
      const auto want = cartpole_by_hand(s, a);
      ASSERT_EQ(r.observation.size(), 4u);
      for (std::size_t i = 0; i < 4; ++i)
        EXPECT_DOUBLE_EQ(r.observation[i], want[i]) << "component " << i << " action " << a;
      EXPECT_EQ(r.reward, 1.0);
      EXPECT_FALSE(r.terminated);
      EXPECT_FALSE(r.truncated);
    }
  }
}

TEST(CartPole, HandComputedFirstStepFromRest) {
  // From rest, action 1 (F = +10): temp = 10/1.1; thetaacc = -temp / (0.5 * (4/3 - 0.1/1.1));
  // xacc = temp - 0.05 * thetaacc / 1.1. Positions do not move on the first step (old velocities are 0).
  CartPole env;
  env.reset(0);
  env.set_state({0, 0, 0, 0});
  const auto r = env.step(1);
  const double temp = 10.0 / 1.1;
  const double thetaacc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
  const double xacc = temp - 0.05 * thetaacc / 1.1;
  EXPECT_EQ(r.observation[0], 0.0);
  EXPECT_DOUBLE_EQ(r.observation[1], 0.02 * xacc);
  EXPECT_EQ(r.observation[2], 0.0);
  EXPECT_DOUBLE_EQ(r.observation[3], 0.02 * thetaacc);
  EXPECT_NEAR(r.observation[1], 0.195122, 1e-6);   // 0.02 * 9.7561
  EXPECT_NEAR(r.observation[3], -0.292683, 1e-6);  // 0.02 * -14.6341
}

TEST(CartPole, PositionsMoveWithTheOldVelocities) {
  CartPole env;
  env.reset(0);
  env.set_state({0.0, 1.0, 0.0, 0.5});
  const auto r = env.step(0);
  EXPECT_DOUBLE_EQ(r.observation[0], 0.02 * 1.0);
  EXPECT_DOUBLE_EQ(r.observation[2], 0.02 * 0.5);
}

TEST(CartPole, TerminatesPastTheAngleAndPositionLimitsWithReward) {
  CartPole env;
  env.reset(0);
  env.set_state({0, 0, 0.2094, 0.5});  // theta becomes 0.2194 > 12 degrees
  auto r = env.step(1);
  EXPECT_TRUE(r.terminated);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.reward, 1.0);  // the terminating step is rewarded too
  EXPECT_THROW(env.step(0), adakit::UsageError);

  env.reset(0);
  env.set_state({-2.39, -1.0, 0, 0});  // x becomes -2.41
  r = env.step(0);
  EXPECT_TRUE(r.terminated);

  env.reset(0);
  env.set_state({2.39, 0.4, 0, 0});  // x becomes 2.398: inside
  r = env.step(0);
  EXPECT_FALSE(r.terminated);
}

TEST(CartPole, TruncatesAtFiveHundredSteps) {
  CartPole env;
  env.reset(3);
  for (int i = 1; i <= 500; ++i) {
    env.set_state({0, 0, 0, 0});  // keep it balanced; the step count goes on
    const auto r = env.step(i % 2);
    EXPECT_FALSE(r.terminated);
    ASSERT_EQ(r.truncated, i == 500) << "step " << i;
    EXPECT_EQ(env.elapsed_steps(), i);
  }
  EXPECT_THROW(env.step(0), adakit::UsageError);
  env.reset();
  EXPECT_EQ(env.elapsed_steps(), 0);

  CartPole short_env(3);
  short_env.reset(0);
  EXPECT_FALSE(short_env.step(0).truncated);
  EXPECT_FALSE(short_env.step(1).truncated);
  EXPECT_TRUE(short_env.step(0).truncated);
}

TEST(CartPole, SeededResetIsDeterministicAndInRange) {
  CartPole a, b;
  const auto oa = a.reset(42), ob = b.reset(42);
  EXPECT_EQ(oa, ob);
  for (double v : oa) {
    EXPECT_GE(v, -0.05);
    EXPECT_LT(v, 0.05);
  }
  // The same draws as an adakit::Rng with that seed.
  adakit::Rng rng(42);
  for (double v : oa) EXPECT_EQ(v, rng.uniform(-0.05, 0.05));
  EXPECT_NE(a.reset(43), oa);
  // reset() continues the stream; reset(seed) restarts it.
  const auto next_a = a.reset(42), next_b = b.reset();
  EXPECT_EQ(next_a, oa);
  EXPECT_NE(next_b, ob);
  // Same seed, same actions: the same trajectory.
  a.reset(7);
  b.reset(7);
  for (int i = 0; i < 20; ++i) {
    const auto ra = a.step(i % 3 == 0), rb = b.step(i % 3 == 0);
    EXPECT_EQ(ra.observation, rb.observation);
    if (ra.done()) break;
  }
}

TEST(CartPole, RejectsBadActionsAndStepsBeforeReset) {
  CartPole env;
  EXPECT_THROW(env.step(0), adakit::UsageError);
  env.reset(0);
  EXPECT_THROW(env.step(2), adakit::UsageError);
  EXPECT_THROW(env.step(-1), adakit::UsageError);
  EXPECT_THROW(CartPole(0), adakit::UsageError);
}

// MountainCar-v0's step, written out here.
std::array<double, 2> mountaincar_by_hand(double p, double v, int action) {
  v += (action - 1) * 0.001 + std::cos(3 * p) * (-0.0025);
  v = std::min(std::max(v, -0.07), 0.07);
  p += v;
  p = std::min(std::max(p, -1.2), 0.6);
  if (p == -1.2 && v < 0) v = 0;
  return {p, v};
}

TEST(MountainCar, SingleStepsMatchTheEquations) {
  const std::array<std::array<double, 2>, 4> starts{{{-0.5, 0.0}, {-0.9, -0.03}, {0.3, 0.05}, {-0.2, 0.069}}};
  for (const auto& s : starts) {
    for (int a : {0, 1, 2}) {
      MountainCar env;
      env.reset(0);
      env.set_state(s);
      const auto r = env.step(a);
      const auto want = mountaincar_by_hand(s[0], s[1], a);
      EXPECT_DOUBLE_EQ(r.observation[0], want[0]);
      EXPECT_DOUBLE_EQ(r.observation[1], want[1]);
      EXPECT_EQ(r.reward, -1.0);
    }
  }
  // By hand: from (-0.5, 0) pushing right, v = 0.001 - 0.0025 cos(-1.5) = 0.00082316..., p = -0.49917684...
  MountainCar env;
  env.reset(0);
  env.set_state({-0.5, 0.0});
  const auto r = env.step(2);
  EXPECT_NEAR(r.observation[1], 0.001 - 0.0025 * 0.0707372016677029, 1e-15);
  EXPECT_NEAR(r.observation[0], -0.5 + 0.001 - 0.0025 * 0.0707372016677029, 1e-15);
}

TEST(MountainCar, ClipsVelocityAndStopsAtTheLeftWall) {
  MountainCar env;
  env.reset(0);
  env.set_state({-0.52, 0.07});  // 0.07 + 0.001 - 0.0025 cos(-1.56) = 0.070973: clipped
  auto r = env.step(2);
  EXPECT_EQ(r.observation[1], 0.07);
  EXPECT_DOUBLE_EQ(r.observation[0], -0.52 + 0.07);
  env.set_state({-1.19, -0.05});  // hits the wall: position -1.2, velocity 0
  r = env.step(0);
  EXPECT_EQ(r.observation[0], -1.2);
  EXPECT_EQ(r.observation[1], 0.0);
  env.set_state({0.55, 0.07});  // position clipped to 0.6 (and the goal reached)
  r = env.step(2);
  EXPECT_EQ(r.observation[0], 0.6);
  EXPECT_TRUE(r.terminated);
}

TEST(MountainCar, TerminatesAtTheGoalAndTruncatesAtTwoHundred) {
  MountainCar env;
  env.reset(0);
  env.set_state({0.48, 0.03});
  auto r = env.step(2);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, -1.0);
  EXPECT_THROW(env.step(1), adakit::UsageError);

  env.reset(5);
  for (int i = 1; i <= 200; ++i) {
    r = env.step(1);  // doing nothing never reaches the goal
    EXPECT_FALSE(r.terminated);
    ASSERT_EQ(r.truncated, i == 200) << "step " << i;
  }
}

TEST(MountainCar, SeededResetIsDeterministicAndInRange) {
  MountainCar a, b;
  EXPECT_EQ(a.reset(9), b.reset(9));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const auto o = a.reset(seed);
    EXPECT_GE(o[0], -0.6);
    EXPECT_LT(o[0], -0.4);
    EXPECT_EQ(o[1], 0.0);
  }
  EXPECT_THROW(a.step(3), adakit::UsageError);
}

TEST(RlEnv, RegistryMakesEveryEnvironment) {
  const auto envs = adakit::rl::environments();
  ASSERT_EQ(envs.size(), 2u);
  for (const auto& info : envs) {
    auto env = adakit::rl::make_env(info.name);
    EXPECT_EQ(env->name(), info.name);
    EXPECT_EQ(info.feature_low.size(), env->observation_space().size());
    EXPECT_EQ(env->reset(1).size(), env->observation_space().size());
  }
  EXPECT_EQ(adakit::rl::make_env("cartpole", 17)->max_episode_steps(), 17);
  EXPECT_EQ(adakit::rl::find_env("cartpole").solved_return, 475.0);
  EXPECT_THROW(adakit::rl::make_env("pong"), adakit::UsageError);
}

}  // namespace
