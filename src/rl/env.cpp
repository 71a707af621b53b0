#include "adakit/rl/env.hpp"

#include <array>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/rl/cartpole.hpp"
#include "adakit/rl/mountain_car.hpp"

namespace adakit::rl {
namespace {

template <class E>
std::unique_ptr<Env> make(std::int64_t max_steps) {
  return std::make_unique<E>(max_steps > 0 ? max_steps : E::default_max_steps);
}

const Registry<EnvInfo>& registry() {
  // CartPole's velocities are unbounded; the feature box clips them to ranges a balancing policy stays in.
  static const auto envs = std::to_array<EnvInfo>({
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
  });
  static_assert(envs.size() == 2, "a new environment needs its recipe (recipes.cpp), its tests (tests/rl) and docs");
  static const Registry<EnvInfo> registry{envs, {"unknown environment '{name}' ({names})", "env"}};
  return registry;
}

}  // namespace

std::span<const EnvInfo> environments() { return registry().rows(); }

const EnvInfo& find_env(std::string_view name) { return registry().at(name); }

std::unique_ptr<Env> make_env(std::string_view name, std::int64_t max_episode_steps) {
  return find_env(name).make(max_episode_steps);
}

}  // namespace adakit::rl
