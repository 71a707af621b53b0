// rl::run: the agent and environment it builds from names and the recipe equal the ones built by
// hand, a seeded run repeats its returns, and the summary and curve carry the run's numbers.
#include "adakit/rl/run.hpp"

#include <gtest/gtest.h>

#include "adakit/core/error.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/rl/agents.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/tiles.hpp"

namespace {
using namespace adakit::rl;

TEST(RlRun, EqualsTheRecipeBuiltByHand) {
  RunOptions o;
  o.env = "cartpole";
  o.episodes = 30;
  o.seed = 4;
  o.eval = 3;
  std::string banner;
  std::int64_t seen = 0;
  const auto r = run(o, {[&](const std::string& s) { banner = s; }, [&](const EpisodeStats&) { return ++seen, false; }});

  const auto& info = find_env("cartpole");
  const auto& recipe = recipe_for("cartpole");
  auto env = make_env("cartpole");
  AgentOptions ao;
  ao.gamma = recipe.gamma;
  ao.optimizer = "adagrad";
  ao.optimizer_options = {{"lr", adakit::optim::format_double(recipe.adagrad_lr)}};
  ao.seed = 4;
  LinearAgent agent(std::make_unique<TileCoder>(TileCoderOptions{info.feature_low, info.feature_high, recipe.tilings,
                                                                 recipe.tiles, 0, 0}),
                    env->num_actions(), ao);
  TrainOptions to;
  to.episodes = 30;
  to.seed = 4;
  to.epsilon = recipe.epsilon;
  to.solved_return = info.solved_return;
  const auto tr = train(*env, agent, to);
  const auto ev = evaluate(*env, agent, 3, 4);

  EXPECT_EQ(seen, 30);
  ASSERT_EQ(r.train.episodes.size(), 30u);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(r.train.episodes[i].ret, tr.episodes[i].ret) << i;
    EXPECT_EQ(r.train.episodes[i].steps, tr.episodes[i].steps) << i;
  }
  EXPECT_EQ(r.eval.returns, ev.returns);
  EXPECT_EQ(r.summary["total_steps"], tr.total_steps);
  EXPECT_EQ(r.summary["eval_mean_return"].get<double>(), ev.mean);
  EXPECT_EQ(r.summary["episodes"], 30);
  EXPECT_EQ(r.summary["gradients"], "sparse");
  EXPECT_EQ(r.summary["feature_map"], "8 tilings of 8^4 tiles");
  EXPECT_EQ(r.summary["features"], 8 * 6561);
  EXPECT_EQ(r.summary["solve_threshold"], 475.0);
  EXPECT_TRUE(r.summary["episodes_to_solve"].is_null());
  EXPECT_EQ(r.summary["curve"]["series"]["return"].size(), 30u);
  EXPECT_EQ(banner.rfind("rl cartpole: q-linear (q-learning), 8 tilings of 8^4 tiles, adagrad lr 3, ", 0), 0u) << banner;

  // The curve CSV: a header and a line per episode.
  const auto csv = curve_csv(r.train);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "episode,return,epsilon,mean100,steps");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 31);
  EXPECT_NE(csv.find("\n1," + std::to_string(static_cast<long long>(tr.episodes[0].ret)) + ","), std::string::npos) << csv;

  // Same seed, same run.
  const auto again = run(o);
  for (std::size_t i = 0; i < 30; ++i) EXPECT_EQ(again.train.episodes[i].ret, r.train.episodes[i].ret);
  EXPECT_EQ(again.eval.returns, r.eval.returns);
}

TEST(RlRun, TabularBinsAndUsageErrors) {
  RunOptions o;
  o.env = "cartpole";
  o.agent = "q-tabular";
  o.bins = "1,1,6,12";
  o.episodes = 5;
  o.eval = 1;
  const auto r = run(o);
  EXPECT_EQ(r.summary["feature_map"], "bins 1x1x6x12");
  EXPECT_EQ(r.summary["features"], 72);
  EXPECT_EQ(r.summary["episodes"], 5);

  auto bad = o;
  bad.tilings = 4;  // a tile-coder flag on the tabular agent
  EXPECT_THROW(run(bad), adakit::UsageError);
  bad = o;
  bad.bins = "0";
  EXPECT_THROW(run(bad), adakit::UsageError);
  bad = o;
  bad.agent = "q-linear";  // bins on a linear agent
  EXPECT_THROW(run(bad), adakit::UsageError);
  bad = o;
  bad.bounds = "0:1,0:1";  // two pairs for four dimensions
  EXPECT_THROW(run(bad), adakit::UsageError);
  bad = o;
  bad.agent = "dqn";
  EXPECT_THROW(run(bad), adakit::UsageError);
}

}  // namespace
