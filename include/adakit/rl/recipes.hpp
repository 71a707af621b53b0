// Measured settings per environment: the defaults of `adakit rl ENV` and of the tests. Measured with
// `adakit rl ENV --seed S --json` for seeds 0-4 (Release, one thread):
//   cartpole, q-linear + adagrad lr 3: greedy evaluation 500.0 on all 5 seeds, solved (mean of the last
//     100 training episodes >= 475) at episodes 1012-1039, about 0.8 s a run; q-tabular (bins 1,1,6,12)
//     + adagrad lr 3: 500.0 on all 5; sarsa-linear: 497.1-500.0.
//   mountaincar, q-linear + adagrad lr 1: greedy evaluation -98.7 to -110.0 (the time limit gives -200).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/rl/loop.hpp"

namespace adakit::rl {

struct Recipe {
  std::string_view env;
  std::int64_t episodes;
  double gamma;
  EpsilonSchedule epsilon;
  double adagrad_lr;               // other optimizers keep their own default lr unless one is given
  std::int64_t tilings, tiles;     // tile coder over EnvInfo's feature box, unhashed
  std::vector<std::int64_t> bins;  // tabular Q-learning: bins per dimension
};

std::span<const Recipe> recipes();
const Recipe& recipe_for(std::string_view env);  // UsageError on an unknown name

// The defaults of one recipe field per environment, for help texts: "cartpole 2000, mountaincar 1000".
// Fields: episodes, gamma, epsilon_start, epsilon_end, epsilon_decay, tilings, tiles, bins (a comma
// list), adagrad_lr; and bounds, each environment's feature box ("cartpole lo:hi,...; mountaincar ...").
// UsageError for another field.
std::string recipe_defaults(std::string_view field);

}  // namespace adakit::rl
