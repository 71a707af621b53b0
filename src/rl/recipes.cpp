#include "adakit/rl/recipes.hpp"

#include <array>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/rl/env.hpp"

namespace adakit::rl {
namespace {

const std::array<Recipe, 2>& table() {
  static const std::array<Recipe, 2> r{{
      // Rewards are +1, so Q = 0 is pessimistic: explore with epsilon 1 -> 0.01 over 1000 episodes.
      // Tabular: only the pole's angle and angular velocity (1, 1, 6, 12 bins), as the classic tutorials.
      {"cartpole", 2000, 0.99, {1.0, 0.01, 1000}, 3.0, 8, 8, {1, 1, 6, 12}},
      // Rewards are -1, so Q = 0 is optimistic and explores by itself: epsilon 0, no discount.
      {"mountaincar", 1000, 1.0, {0.0, 0.0, 0}, 1.0, 8, 8, {12, 12}},
  }};
  return r;
}

}  // namespace

std::span<const Recipe> recipes() { return table(); }

const Recipe& recipe_for(std::string_view env) {
  for (const auto& r : table())
    if (r.env == env) return r;
  find_env(env);  // throws, naming the valid environments
  throw UsageError("no recipe for environment '" + std::string(env) + "'", {"", 0, "env"});
}

}  // namespace adakit::rl
