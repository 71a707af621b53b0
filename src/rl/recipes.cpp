#include "adakit/rl/recipes.hpp"

#include <array>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/report/curve.hpp"
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

std::string recipe_defaults(std::string_view field) {
  using report::format_number;
  std::string s;
  if (field == "bounds") {
    for (const auto& e : environments()) {
      std::string box;
      for (std::size_t d = 0; d < e.feature_low.size(); ++d)
        box += (box.empty() ? "" : ",") + format_number(e.feature_low[d]) + ":" + format_number(e.feature_high[d]);
      s += (s.empty() ? "" : "; ") + std::string(e.name) + " " + box;
    }
    return s;
  }
  for (const auto& r : recipes()) {
    std::string v;
    if (field == "episodes") v = std::to_string(r.episodes);
    else if (field == "gamma") v = format_number(r.gamma);
    else if (field == "epsilon_start") v = format_number(r.epsilon.start);
    else if (field == "epsilon_end") v = format_number(r.epsilon.end);
    else if (field == "epsilon_decay") v = std::to_string(r.epsilon.decay_episodes);
    else if (field == "tilings") v = std::to_string(r.tilings);
    else if (field == "tiles") v = std::to_string(r.tiles);
    else if (field == "adagrad_lr") v = format_number(r.adagrad_lr);
    else if (field == "bins")
      for (auto b : r.bins) v += (v.empty() ? "" : ",") + std::to_string(b);
    else
      throw UsageError("no recipe field '" + std::string(field) + "'", {"", 0, "field"});
    s += (s.empty() ? "" : ", ") + std::string(r.env) + " " + v;
  }
  return s;
}

}  // namespace adakit::rl
