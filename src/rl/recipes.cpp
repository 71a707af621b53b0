#include "adakit/rl/recipes.hpp"

#include <array>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/rl/env.hpp"

namespace adakit::rl {
namespace {

const Registry<Recipe, &Recipe::env>& registry() {
  static const auto r = std::to_array<Recipe>({
      // Rewards are +1, so Q = 0 is pessimistic: explore with epsilon 1 -> 0.01 over 1000 episodes.
      // Tabular: only the pole's angle and angular velocity (1, 1, 6, 12 bins), as the classic tutorials.
      {"cartpole", 2000, 0.99, {1.0, 0.01, 1000}, 3.0, 8, 8, {1, 1, 6, 12}},
      // Rewards are -1, so Q = 0 is optimistic and explores by itself: epsilon 0, no discount.
      {"mountaincar", 1000, 1.0, {0.0, 0.0, 0}, 1.0, 8, 8, {12, 12}},
  });
  static_assert(r.size() == 2, "one recipe per environment (env.cpp)");
  static const Registry<Recipe, &Recipe::env> registry{r, {"no recipe for environment '{name}'", "env"}};
  return registry;
}

}  // namespace

std::span<const Recipe> recipes() { return registry().rows(); }

const Recipe& recipe_for(std::string_view env) {
  if (const Recipe* r = registry().find(env)) return *r;
  find_env(env);  // throws, naming the valid environments
  registry().throw_unknown(env);
}

}  // namespace adakit::rl
