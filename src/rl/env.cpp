#include "adakit/rl/env.hpp"

#include <array>

#include "adakit/core/error.hpp"
#include "adakit/rl/cartpole.hpp"
#include "adakit/rl/mountain_car.hpp"

namespace adakit::rl {
namespace {

template <class E>
std::unique_ptr<Env> make(std::int64_t max_steps) {
  return std::make_unique<E>(max_steps > 0 ? max_steps : E::default_max_steps);
}

const std::array<EnvInfo, 2>& table() {
  // CartPole's velocities are unbounded; the feature box clips them to ranges a balancing policy stays in.
  static const std::array<EnvInfo, 2> envs{{
      {"cartpole",
       "CartPole-v1: balance a pole on a cart (2 actions, 500 steps)",
       475.0,
       {-2.4, -3.0, -CartPole::theta_threshold, -3.5},
       {2.4, 3.0, CartPole::theta_threshold, 3.5},
       &make<CartPole>},
      {"mountaincar",
       "MountainCar-v0: drive an underpowered car up a hill (3 actions, 200 steps)",
       -110.0,
       {MountainCar::min_position, -MountainCar::max_speed},
       {MountainCar::max_position, MountainCar::max_speed},
       &make<MountainCar>},
  }};
  return envs;
}

}  // namespace

std::span<const EnvInfo> environments() { return table(); }

const EnvInfo& find_env(std::string_view name) {
  for (const auto& e : table())
    if (e.name == name) return e;
  std::string names;
  for (const auto& e : table()) names += (names.empty() ? "" : ", ") + std::string(e.name);
  throw UsageError("unknown environment '" + std::string(name) + "' (" + names + ")", {"", 0, "env"});
}

std::unique_ptr<Env> make_env(std::string_view name, std::int64_t max_episode_steps) {
  return find_env(name).make(max_episode_steps);
}

}  // namespace adakit::rl
