// Measured settings per environment: the defaults of `adakit rl ENV` and of the tests. Each one solves
// its environment with linear Q-learning + AdaGrad over a tile coder (figures in docs/rl.md).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/rl/loop.hpp"

namespace adakit::rl {

struct Recipe {
  std::string_view env;
  std::int64_t episodes;
  double gamma;
  EpsilonSchedule epsilon;
  double adagrad_lr;                 // other optimizers keep their own default lr unless one is given
  std::int64_t tilings, tiles;       // tile coder over EnvInfo's feature box, unhashed
  std::vector<std::int64_t> bins;    // tabular Q-learning: bins per dimension
};

std::span<const Recipe> recipes();
const Recipe& recipe_for(std::string_view env);  // UsageError on an unknown name

}  // namespace adakit::rl
