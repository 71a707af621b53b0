// Linear Q-learning / SARSA through adakit optimizers: the TD update by hand, sparse vs dense
// gradients, exploration, and short training runs on CartPole and MountainCar.
#include "adakit/rl/agents.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "adakit/core/error.hpp"
#include "adakit/rl/cartpole.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/loop.hpp"
#include "adakit/rl/mountain_car.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/tiles.hpp"

namespace {

using namespace adakit::rl;

std::unique_ptr<FeatureMap> cartpole_tiles(std::int64_t table = 0) {
  const auto& info = find_env("cartpole");
  return std::make_unique<TileCoder>(TileCoderOptions{info.feature_low, info.feature_high, 8, 8, table, 0});
}

AgentOptions options(std::string optimizer, double lr, Method method = Method::q_learning) {
  AgentOptions o;
  o.method = method;
  o.optimizer = std::move(optimizer);
  o.optimizer_options = {{"lr", std::to_string(lr)}};
  return o;
}

TEST(RlAgent, InitialQAndShapes) {
  auto o = options("adagrad", 0.1);
  o.initial_q = 4.0;
  LinearAgent agent(cartpole_tiles(), 2, o);
  EXPECT_EQ(agent.weights().shape(), (adakit::Shape{8 * 6561, 2}));
  const auto q = agent.q_values(std::vector<double>{0.1, 0.2, 0.01, -0.3});
  ASSERT_EQ(q.size(), 2u);
  EXPECT_NEAR(q[0], 4.0, 1e-5);
  EXPECT_NEAR(q[1], 4.0, 1e-5);
}

TEST(RlAgent, SgdUpdateIsTheTextbookRule) {
  // W[i, a] += lr * delta on each active feature, so Q(s, a) moves by tilings * lr * delta.
  LinearAgent agent(cartpole_tiles(), 2, options("sgd", 0.01));
  EXPECT_FALSE(agent.sparse_gradients());  // sgd takes dense gradients
  const std::vector<double> s{0.0, 0.1, 0.02, -0.1}, s2{0.01, 0.2, 0.03, -0.2};
  // First update: Q = 0 everywhere, delta = r + gamma * 0 - 0 = 1.
  double delta = agent.update(s, 1, 1.0, s2, false);
  EXPECT_DOUBLE_EQ(delta, 1.0);
  auto q = agent.q_values(s);
  EXPECT_NEAR(q[1], 8 * 0.01, 1e-6);
  EXPECT_EQ(q[0], 0.0);  // the other action's weights are untouched
  // Second update, from s2 to s: target = 1 + 0.99 * max_a Q(s, a) = 1 + 0.99 * 0.08.
  const double q_s2 = agent.q_values(s2)[0];
  delta = agent.update(s2, 0, 1.0, s, false);
  EXPECT_NEAR(delta, 1.0 + 0.99 * 0.08 - q_s2, 1e-6);
  // Terminal transition: no bootstrap.
  const double q_before = agent.q_values(s)[1];
  delta = agent.update(s, 1, 1.0, s2, true);
  EXPECT_NEAR(delta, 1.0 - q_before, 1e-6);
  // The dense gradient is left all zeros between updates.
  for (float g : agent.weights().grad().span()) ASSERT_EQ(g, 0.0f);
}

TEST(RlAgent, SarsaBootstrapsFromTheActionTaken) {
  LinearAgent agent(cartpole_tiles(), 2, options("sgd", 0.05, Method::sarsa));
  const std::vector<double> s{0.0, 0.1, 0.02, -0.1}, s2{0.5, -0.2, -0.05, 0.4};
  agent.update(s2, 1, 1.0, s, true);  // Q(s2, 1) = 8 * 0.05 = 0.4, Q(s2, 0) = 0
  const double q0 = agent.q_values(s)[0];
  EXPECT_NEAR(agent.update(s, 0, 1.0, s2, false, 0), 1.0 + 0.99 * 0.0 - q0, 1e-6);
  const double q1 = agent.q_values(s)[0];
  EXPECT_NEAR(agent.update(s, 0, 1.0, s2, false, 1), 1.0 + 0.99 * 0.4 - q1, 1e-6);
  EXPECT_THROW(agent.update(s, 0, 1.0, s2, false), adakit::UsageError);  // SARSA needs the next action
}

TEST(RlAgent, AdagradStepsEachWeightByItsOwnHistory) {
  // AdaGrad (PyTorch's, eps 1e-10): the first step of a weight is lr * g / |g| = -lr * sign(g): Q moves by tilings *
  // lr.
  LinearAgent agent(cartpole_tiles(), 2, options("adagrad", 0.5));
  EXPECT_TRUE(agent.sparse_gradients());
  const std::vector<double> s{0.0, 0.1, 0.02, -0.1}, s2{0.01, 0.2, 0.03, -0.2};
  agent.update(s, 0, 3.0, s2, true);  // delta = 3: every active weight +0.5
  EXPECT_NEAR(agent.q_values(s)[0], 8 * 0.5, 1e-5);
  // Second update with delta = 3 - 4 = -1: sum = 9 + 1, step = 0.5 * (-1) / sqrt(10) per weight.
  agent.update(s, 0, 3.0, s2, true);
  EXPECT_NEAR(agent.q_values(s)[0], 8 * (0.5 - 0.5 / std::sqrt(10.0)), 1e-5);
}

TEST(RlAgent, SparseAndDenseGradientsAgreeForAdagrad) {
  auto sparse_o = options("adagrad", 0.3), dense_o = sparse_o;
  sparse_o.gradients = GradientMode::sparse;
  dense_o.gradients = GradientMode::dense;
  LinearAgent a(cartpole_tiles(4096), 2, sparse_o), b(cartpole_tiles(4096), 2, dense_o);
  EXPECT_TRUE(a.sparse_gradients());
  EXPECT_FALSE(b.sparse_gradients());
  CartPole env;
  auto obs = env.reset(5);
  for (int i = 0; i < 300; ++i) {
    const std::int64_t action = i % 3 == 0 ? 1 : 0;
    const auto r = env.step(action);
    const double da = a.update(obs, action, r.reward, r.observation, r.terminated);
    const double db = b.update(obs, action, r.reward, r.observation, r.terminated);
    ASSERT_NEAR(da, db, 1e-5 * (1 + std::abs(da)));
    obs = r.done() ? env.reset() : r.observation;
  }
  const auto wa = a.weights().value().span(), wb = b.weights().value().span();
  for (std::size_t i = 0; i < wa.size(); ++i) ASSERT_NEAR(wa[i], wb[i], 1e-5) << i;
}

TEST(RlAgent, AutomaticGradientsFollowTheOptimizer) {
  EXPECT_TRUE(optimizer_takes_sparse_rows("adagrad", {}));
  EXPECT_FALSE(optimizer_takes_sparse_rows("adagrad", {{"weight_decay", "0.01"}}));  // no decay with sparse rows
  EXPECT_FALSE(optimizer_takes_sparse_rows("sgd", {}));
  EXPECT_FALSE(optimizer_takes_sparse_rows("adam", {}));
  EXPECT_THROW(optimizer_takes_sparse_rows("adam", {{"nope", "1"}}), adakit::UsageError);
  // Every optimizer of the registry plugs in: one update each moves Q(s, a) towards the target.
  for (const char* name : {"adagrad", "sgd", "adam", "adamw", "rmsprop", "adadelta"}) {
    AgentOptions o;
    o.optimizer = name;
    LinearAgent agent(cartpole_tiles(1024), 2, o);
    const std::vector<double> s{0.0, 0.1, 0.02, -0.1};
    agent.update(s, 1, 1.0, s, true);
    EXPECT_GT(agent.q_values(s)[1], 0.0) << name;
  }
  // Forcing sparse rows on sgd fails on the first update, naming the way out.
  auto o = options("sgd", 0.1);
  o.gradients = GradientMode::sparse;
  LinearAgent agent(cartpole_tiles(), 2, o);
  const std::vector<double> s{0.0, 0.1, 0.02, -0.1};
  EXPECT_THROW(agent.update(s, 1, 1.0, s, true), adakit::UsageError);
}

TEST(RlAgent, EpsilonGreedyExploresAndBreaksTiesAtRandom) {
  LinearAgent agent(cartpole_tiles(), 2, options("adagrad", 0.1));
  const std::vector<double> s{0.0, 0.1, 0.02, -0.1};
  int ones = 0;
  for (int i = 0; i < 2000; ++i) ones += static_cast<int>(agent.greedy(s));  // Q ties: uniform choice
  EXPECT_GT(ones, 850);
  EXPECT_LT(ones, 1150);
  agent.update(s, 1, 1.0, s, true);  // now action 1 is better
  for (int i = 0; i < 100; ++i) EXPECT_EQ(agent.act(s, 0.0), 1);
  ones = 0;
  for (int i = 0; i < 4000; ++i) ones += static_cast<int>(agent.act(s, 0.5));  // 0.75 of the time action 1
  EXPECT_GT(ones, 2800);
  EXPECT_LT(ones, 3200);
}

TEST(RlAgent, RejectsBadOptions) {
  auto o = options("adagrad", 0.1);
  o.gamma = 1.5;
  EXPECT_THROW(LinearAgent(cartpole_tiles(), 2, o), adakit::UsageError);
  EXPECT_THROW(LinearAgent(cartpole_tiles(), 2, options("nesterov-adam", 0.1)), adakit::UsageError);
  EXPECT_THROW(LinearAgent(cartpole_tiles(), 0, options("adagrad", 0.1)), adakit::UsageError);
  EXPECT_THROW(LinearAgent(cartpole_tiles(), 2, options("adagrad", -1.0)), adakit::UsageError);
  EXPECT_EQ(method_from_string("sarsa"), Method::sarsa);
  EXPECT_THROW(method_from_string("td-lambda"), adakit::UsageError);
  EXPECT_EQ(gradient_mode_from_string("dense"), GradientMode::dense);
}

TEST(RlLoop, EpsilonScheduleAndEpisodeSeeds) {
  EpsilonSchedule e{1.0, 0.1, 10};
  EXPECT_DOUBLE_EQ(e.at(0), 1.0);
  EXPECT_DOUBLE_EQ(e.at(5), 0.55);
  EXPECT_DOUBLE_EQ(e.at(10), 0.1);
  EXPECT_DOUBLE_EQ(e.at(1000), 0.1);
  EXPECT_DOUBLE_EQ((EpsilonSchedule{1.0, 0.2, 0}.at(0)), 0.2);
  EXPECT_THROW((EpsilonSchedule{1.5, 0.1, 10}.validate()), adakit::UsageError);
  EXPECT_NE(episode_seed(0, 0, 0), episode_seed(0, 1, 0));  // evaluation never replays a training start
  EXPECT_NE(episode_seed(0, 0, 1), episode_seed(1, 0, 0));
  EXPECT_EQ(episode_seed(3, 0, 7), episode_seed(3, 0, 7));
}

// The measured recipe, shortened: 400 episodes (epsilon 1 -> 0.01 over 250) of linear Q-learning with
// AdaGrad lr 3 on CartPole-v1. Measured over seeds 0-7: greedy evaluation 434-500 (seed 0: 500) in
// about 0.2 s (Release). The bound leaves a wide margin for other compilers' rounding.
TEST(CartPole, QLearningWithAdagradLearnsToBalanceQuickly) {
  CartPole env;
  const auto& recipe = recipe_for("cartpole");
  auto o = options("adagrad", recipe.adagrad_lr);
  o.gamma = recipe.gamma;
  LinearAgent agent(cartpole_tiles(), 2, o);
  TrainOptions to;
  to.episodes = 400;
  to.seed = 0;
  to.epsilon = {1.0, 0.01, 250};
  to.solved_return = 475;
  const auto t0 = std::chrono::steady_clock::now();
  const auto result = train(env, agent, to);
  const auto ev = evaluate(env, agent, 100, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(result.diverged);
  EXPECT_EQ(result.episodes.size(), 400u);
  EXPECT_GT(result.episodes.back().mean_window, 250.0);  // training returns (with exploration) rose from ~20
  EXPECT_LT(result.episodes.front().ret, 100.0);
  EXPECT_GE(ev.mean, 400.0) << "greedy evaluation mean " << ev.mean;
  EXPECT_LT(seconds, 5.0);
  // Reproducible: the same seed gives the same run.
  LinearAgent again(cartpole_tiles(), 2, o);
  to.episodes = 50;
  const auto r1 = train(env, again, to);
  LinearAgent third(cartpole_tiles(), 2, o);
  const auto r2 = train(env, third, to);
  for (std::size_t i = 0; i < r1.episodes.size(); ++i) ASSERT_EQ(r1.episodes[i].ret, r2.episodes[i].ret);
}

// MountainCar-v0: 200 episodes, AdaGrad lr 1, gamma 1, epsilon 0 (Q = 0 is optimistic for -1 rewards).
// Measured over seeds 0-7: evaluation -116 to -143 (the time limit gives -200); about 0.05 s.
TEST(MountainCar, QLearningWithAdagradReachesTheGoal) {
  MountainCar env;
  const auto& info = find_env("mountaincar");
  const auto& recipe = recipe_for("mountaincar");
  auto o = options("adagrad", recipe.adagrad_lr);
  o.gamma = recipe.gamma;
  LinearAgent agent(std::make_unique<TileCoder>(TileCoderOptions{info.feature_low, info.feature_high, 8, 8, 0, 0}), 3,
                    o);
  TrainOptions to;
  to.episodes = 200;
  to.epsilon = recipe.epsilon;
  const auto result = train(env, agent, to);
  const auto ev = evaluate(env, agent, 100, 0);
  EXPECT_FALSE(result.diverged);
  EXPECT_GT(ev.mean, -170.0) << "greedy evaluation mean " << ev.mean;
  EXPECT_GT(ev.max, -200.0);
}

TEST(RlLoop, SolveIsTheFirstFullWindowAtTheThreshold) {
  CartPole env(20);  // a 20-step limit: returns are at most 20
  LinearAgent agent(cartpole_tiles(), 2, options("adagrad", 3.0));
  TrainOptions to;
  to.episodes = 300;
  to.window = 10;
  to.solved_return = 19.0;
  to.epsilon = {1.0, 0.0, 100};
  to.stop_when_solved = true;
  const auto result = train(env, agent, to);
  ASSERT_TRUE(result.episodes_to_solve.has_value());
  const auto n = *result.episodes_to_solve;
  EXPECT_GE(n, 10);
  EXPECT_EQ(static_cast<std::int64_t>(result.episodes.size()), n);  // stopped there
  double sum = 0;
  for (std::int64_t e = n - 10; e < n; ++e) sum += result.episodes[static_cast<std::size_t>(e)].ret;
  EXPECT_GE(sum / 10, 19.0);
  EXPECT_DOUBLE_EQ(result.episodes.back().mean_window, sum / 10);
  // The callback can stop training.
  LinearAgent other(cartpole_tiles(), 2, options("adagrad", 3.0));
  to.stop_when_solved = false;
  const auto stopped = train(env, other, to, [](const EpisodeStats& s) { return s.episode == 7; });
  EXPECT_EQ(stopped.episodes.size(), 7u);
  // An agent for another action count is refused.
  LinearAgent three(cartpole_tiles(), 3, options("adagrad", 3.0));
  EXPECT_THROW(train(env, three, to), adakit::UsageError);
}

}  // namespace
