// rl's text for `adakit rl`: the recipes' defaults in help texts, the progress line, the report.
#include <gtest/gtest.h>

#include "adakit/core/error.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/run.hpp"

namespace {
using namespace adakit::rl;

TEST(RlText, RecipeDefaults) {
  EXPECT_EQ(recipe_defaults("episodes"), "cartpole 2000, mountaincar 1000");
  EXPECT_EQ(recipe_defaults("gamma"), "cartpole 0.99, mountaincar 1");
  EXPECT_EQ(recipe_defaults("epsilon_start"), "cartpole 1, mountaincar 0");
  EXPECT_EQ(recipe_defaults("epsilon_end"), "cartpole 0.01, mountaincar 0");
  EXPECT_EQ(recipe_defaults("epsilon_decay"), "cartpole 1000, mountaincar 0");
  EXPECT_EQ(recipe_defaults("tilings"), "cartpole 8, mountaincar 8");
  EXPECT_EQ(recipe_defaults("bins"), "cartpole 1,1,6,12, mountaincar 12,12");
  EXPECT_EQ(recipe_defaults("adagrad_lr"), "cartpole 3, mountaincar 1");
  EXPECT_EQ(recipe_defaults("bounds"),
            "cartpole -2.4:2.4,-3:3,-0.20944:0.20944,-3.5:3.5; mountaincar -1.2:0.6,-0.07:0.07");
  EXPECT_THROW(recipe_defaults("alpha"), adakit::UsageError);
}

TEST(RlText, ProgressLine) {
  EXPECT_EQ(progress_line({.episode = 10, .ret = 9.0, .steps = 9, .epsilon = 0.991, .mean_window = 23.3}),
            "episode     10  return    9.0  mean100   23.30  epsilon 0.991");
}

TEST(RlText, ReportText) {
  RunReport r;
  r.solved_return = 475;
  r.train.episodes = {{.episode = 1, .ret = 20, .steps = 20, .epsilon = 1, .mean_window = 20},
                      {.episode = 2, .ret = 30, .steps = 30, .epsilon = 0.9, .mean_window = 25}};
  r.train.total_steps = 50;
  r.train.seconds = 1.234;
  r.summary = {{"eval_episodes", 3}};
  EXPECT_EQ(report_text(r),
            "trained 2 episodes (50 steps) in 1.23s; mean of the last 100: 25.00\n"
            "not solved in training (mean of the last 100 never reached 475)\n");
  r.train.episodes_to_solve = 2;
  r.eval.returns = {500, 480, 460};
  r.eval.mean = 480;
  r.eval.stddev = 20;
  r.eval.min = 460;
  r.eval.max = 500;
  EXPECT_EQ(report_text(r),
            "trained 2 episodes (50 steps) in 1.23s; mean of the last 100: 25.00\n"
            "solved at episode 2 (mean of the last 100 >= 475)\n"
            "evaluation over 3 greedy episodes: mean 480.00  std 20.00  min 460  max 500  (solved)\n");
}

}  // namespace
