// adakit rl: reinforcement learning on CartPole-v1 / MountainCar-v0 with a linear (tile-coded) or
// tabular Q-learner, or linear SARSA, whose TD updates are done by any optimizer of the registry.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/rl/agents.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/loop.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/tiles.hpp"
#include "common.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct RlFlags {
  std::string env;
  std::string agent = "q-linear";
  OptimizerFlags opt;
  std::optional<std::int64_t> episodes, tilings, tiles;
  std::optional<double> gamma, eps_start, eps_end;
  std::optional<std::int64_t> eps_decay;
  std::string bins, bounds, curve, gradients = "auto";
  std::int64_t table_size = 0, eval = 100, progress = 100, max_steps = 0;
  double initial_q = 0.0;
  std::uint64_t seed = 0;
  bool json = false, quiet = false, stop_when_solved = false;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream ss(text);
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

// "lo:hi,lo:hi,..." — one pair per observation dimension.
void parse_bounds(const std::string& text, std::size_t dims, std::vector<double>& low, std::vector<double>& high) {
  const auto items = split(text, ',');
  if (items.size() != dims)
    throw UsageError("--bounds needs " + std::to_string(dims) + " lo:hi pairs, got " + std::to_string(items.size()),
                     {"", 0, "bounds"});
  low.clear();
  high.clear();
  for (const auto& item : items) {
    const auto colon = item.find(':', item.empty() ? 0 : 1);  // a leading '-' is a sign, not a separator
    if (colon == std::string::npos) throw UsageError("--bounds: '" + item + "' is not lo:hi", {"", 0, "bounds"});
    low.push_back(optim::parse_double("bounds", item.substr(0, colon)));
    high.push_back(optim::parse_double("bounds", item.substr(colon + 1)));
  }
}

std::vector<std::int64_t> parse_bins(const std::string& text) {
  std::vector<std::int64_t> out;
  for (const auto& item : split(text, ',')) {
    const double v = optim::parse_double("bins", item);
    if (v < 1 || v != std::floor(v) || v > 1 << 20)
      throw UsageError("--bins: '" + item + "' is not a positive integer", {"", 0, "bins"});
    out.push_back(static_cast<std::int64_t>(v));
  }
  return out;
}

// An option whose default depends on the environment: unset unless given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& target, const std::string& help) {
  return app.add_option_function<T>(
      name, [&target](const T& v) { target = v; }, help);
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

int run_rl(const RlFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& info = rl::find_env(f.env);
  const auto& recipe = rl::recipe_for(f.env);
  auto env = rl::make_env(f.env, f.max_steps);
  if (f.agent != "q-linear" && f.agent != "sarsa-linear" && f.agent != "q-tabular")
    throw UsageError("unknown agent '" + f.agent + "' (q-linear, sarsa-linear, q-tabular)", {"", 0, "agent"});
  const bool tabular = f.agent == "q-tabular";
  const auto choices = resolve_optimizers(f.opt);
  if (choices.size() != 1) throw UsageError("rl takes one optimizer", {"", 0, "optimizer"});

  std::vector<double> low = info.feature_low, high = info.feature_high;
  if (!f.bounds.empty()) parse_bounds(f.bounds, low.size(), low, high);
  std::unique_ptr<rl::FeatureMap> features;
  std::string features_text;
  if (tabular) {
    if (f.tilings || f.tiles || f.table_size != 0)
      throw UsageError("--tilings, --tiles and --table-size are for the linear agents; q-tabular takes --bins",
                       {"", 0, "agent"});
    const auto bins = f.bins.empty() ? recipe.bins : parse_bins(f.bins);
    features = std::make_unique<rl::UniformBins>(rl::BinsOptions{low, high, bins});
    for (auto b : bins) features_text += (features_text.empty() ? "" : "x") + std::to_string(b);
    features_text = "bins " + features_text;
  } else {
    if (!f.bins.empty()) throw UsageError("--bins is for q-tabular", {"", 0, "bins"});
    rl::TileCoderOptions to{low,          high, f.tilings.value_or(recipe.tilings), f.tiles.value_or(recipe.tiles),
                            f.table_size, 0};
    auto coder = std::make_unique<rl::TileCoder>(to);
    features_text = std::to_string(to.tilings) + " tilings of " + std::to_string(to.tiles) + "^" +
                    std::to_string(low.size()) + " tiles" + (coder->hashed() ? ", hashed" : "");
    features = std::move(coder);
  }
  const auto num_features = features->num_features();

  rl::AgentOptions ao;
  ao.method = f.agent == "sarsa-linear" ? rl::Method::sarsa : rl::Method::q_learning;
  ao.gamma = f.gamma.value_or(recipe.gamma);
  ao.initial_q = f.initial_q;
  ao.optimizer = choices[0].name;
  ao.optimizer_options = choices[0].options;
  if (ao.optimizer == "adagrad" && !ao.optimizer_options.contains("lr"))
    ao.optimizer_options["lr"] = optim::format_double(recipe.adagrad_lr);
  ao.gradients = rl::gradient_mode_from_string(f.gradients);
  ao.seed = f.seed;
  rl::LinearAgent agent(std::move(features), env->num_actions(), ao);
  agent.optimizer().set_schedule(optim::Schedule::parse(f.opt.schedule));
  agent.optimizer().set_clip({f.opt.clip_norm, f.opt.clip_value});

  rl::TrainOptions to;
  to.episodes = f.episodes.value_or(recipe.episodes);
  to.seed = f.seed;
  to.epsilon = {f.eps_start.value_or(recipe.epsilon.start), f.eps_end.value_or(recipe.epsilon.end),
                f.eps_decay.value_or(recipe.epsilon.decay_episodes)};
  to.solved_return = info.solved_return;
  to.stop_when_solved = f.stop_when_solved;
  to.validate();

  const bool talk = !f.quiet && !f.json;
  if (talk)
    std::fprintf(stderr, "rl %s: %s (%s), %s, %s lr %s, %lld features x %lld actions, %s gradients, %lld episodes\n",
                 f.env.c_str(), f.agent.c_str(), std::string(rl::to_string(ao.method)).c_str(), features_text.c_str(),
                 ao.optimizer.c_str(), format_number(agent.optimizer().lr()).c_str(),
                 static_cast<long long>(num_features), static_cast<long long>(env->num_actions()),
                 agent.sparse_gradients() ? "row-sparse" : "dense", static_cast<long long>(to.episodes));
  std::ostringstream curve;
  curve << "episode,return,epsilon,mean100,steps\n";
  auto result = rl::train(*env, agent, to, [&](const rl::EpisodeStats& s) {
    if (!f.curve.empty())
      curve << s.episode << ',' << format_number(s.ret) << ',' << format_number(s.epsilon) << ','
            << format_number(s.mean_window) << ',' << s.steps << '\n';
    if (talk && f.progress > 0 && s.episode % f.progress == 0)
      std::fprintf(stderr, "episode %6lld  return %6.1f  mean100 %7.2f  epsilon %.3f\n",
                   static_cast<long long>(s.episode), s.ret, s.mean_window, s.epsilon);
    return false;
  });
  if (!f.curve.empty()) io::write_file_atomic(f.curve, curve.str());
  const auto ev = result.diverged ? rl::EvalResult{} : rl::evaluate(*env, agent, f.eval, f.seed);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double final_mean = result.episodes.empty() ? 0.0 : result.episodes.back().mean_window;

  nlohmann::json j = {{"env", f.env},
                      {"agent", f.agent},
                      {"method", rl::to_string(ao.method)},
                      {"optimizer", ao.optimizer},
                      {"options", agent.optimizer().group_options(0)},
                      {"gradients", agent.sparse_gradients() ? "sparse" : "dense"},
                      {"features", num_features},
                      {"feature_map", features_text},
                      {"seed", f.seed},
                      {"gamma", ao.gamma},
                      {"episodes", static_cast<std::int64_t>(result.episodes.size())},
                      {"total_steps", result.total_steps},
                      {"final_mean100", number_or_null(final_mean)},
                      {"solve_threshold", info.solved_return},
                      {"episodes_to_solve",
                       result.episodes_to_solve ? nlohmann::json(*result.episodes_to_solve) : nlohmann::json(nullptr)},
                      {"eval_episodes", f.eval},
                      {"eval_mean_return", ev.returns.empty() ? nlohmann::json(nullptr) : nlohmann::json(ev.mean)},
                      {"eval_std_return", ev.returns.empty() ? nlohmann::json(nullptr) : nlohmann::json(ev.stddev)},
                      {"eval_min_return", ev.returns.empty() ? nlohmann::json(nullptr) : nlohmann::json(ev.min)},
                      {"eval_max_return", ev.returns.empty() ? nlohmann::json(nullptr) : nlohmann::json(ev.max)},
                      {"solved", !ev.returns.empty() && ev.mean >= info.solved_return},
                      {"diverged", result.diverged},
                      {"train_seconds", result.seconds},
                      {"seconds", seconds}};
  {
    std::vector<double> x, ret, mean;
    for (const auto& s : result.episodes) {
      x.push_back(static_cast<double>(s.episode));
      ret.push_back(s.ret);
      mean.push_back(s.mean_window);
    }
    j["curve"] = curve_json("episode", x, {{"return", ret}, {"mean100_return", mean}});
  }
  if (f.json) {
    std::cout << j.dump() << "\n";
  } else if (!f.quiet) {
    std::printf("trained %lld episodes (%lld steps) in %.2fs; mean of the last 100: %.2f\n",
                static_cast<long long>(result.episodes.size()), static_cast<long long>(result.total_steps),
                result.seconds, final_mean);
    if (result.episodes_to_solve)
      std::printf("solved at episode %lld (mean of the last 100 >= %g)\n",
                  static_cast<long long>(*result.episodes_to_solve), info.solved_return);
    else
      std::printf("not solved in training (mean of the last 100 never reached %g)\n", info.solved_return);
    if (!ev.returns.empty())
      std::printf("evaluation over %lld greedy episodes: mean %.2f  std %.2f  min %g  max %g%s\n",
                  static_cast<long long>(f.eval), ev.mean, ev.stddev, ev.min, ev.max,
                  ev.mean >= info.solved_return ? "  (solved)" : "");
    if (!f.curve.empty()) std::printf("wrote %s\n", f.curve.c_str());
  }
  if (result.diverged) {
    std::cerr << "adakit: error: the TD error became non-finite at episode " << result.episodes.size() + 1
              << "; lower --lr\n";
    return 1;
  }
  return 0;
}

std::string env_names() {
  std::string names;
  for (const auto& e : rl::environments()) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

std::string default_bounds() {
  std::string s;
  for (const auto& e : rl::environments()) {
    std::string box;
    for (std::size_t d = 0; d < e.feature_low.size(); ++d)
      box += (box.empty() ? "" : ",") + format_number(e.feature_low[d]) + ":" + format_number(e.feature_high[d]);
    s += (s.empty() ? "" : "; ") + std::string(e.name) + " " + box;
  }
  return s;
}

// "cartpole 2000, mountaincar 1000" for one field of the recipes.
template <class Get>
std::string per_env(Get get) {
  std::string s;
  for (const auto& r : rl::recipes()) s += (s.empty() ? "" : ", ") + std::string(r.env) + " " + get(r);
  return s;
}

}  // namespace

void add_rl(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "rl", "reinforcement learning: Q-learning / SARSA on CartPole-v1 or MountainCar-v0, TD updates by any optimizer");
  auto f = std::make_shared<RlFlags>();
  std::vector<std::string> names;
  for (const auto& e : rl::environments()) names.emplace_back(e.name);
  app->add_option("env", f->env, "environment: " + env_names())->required()->check(CLI::IsMember(names));
  app->add_option("--agent,-a", f->agent,
                  "q-linear (Q-learning over a tile coder) | sarsa-linear (SARSA over a tile coder) | "
                  "q-tabular (Q-learning over uniform bins)")
      ->capture_default_str()
      ->check(CLI::IsMember({"q-linear", "sarsa-linear", "q-tabular"}));
  add_optional(*app, "--episodes,-n", f->episodes, "training episodes (default: " + per_env([](const rl::Recipe& r) {
                                                     return std::to_string(r.episodes);
                                                   }) + ")")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_option("--seed", f->seed, "seed: start states, exploration, tie-breaking")->capture_default_str();
  app->add_option("--eval", f->eval, "greedy evaluation episodes after training, on seeds training never used")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
  add_optional(*app, "--gamma", f->gamma,
               "discount (default: " + per_env([](const rl::Recipe& r) { return format_number(r.gamma); }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-start", f->eps_start,
               "exploration at episode 0 (default: " + per_env([](const rl::Recipe& r) {
                 return format_number(r.epsilon.start);
               }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-end", f->eps_end,
               "exploration after the decay (default: " + per_env([](const rl::Recipe& r) {
                 return format_number(r.epsilon.end);
               }) + ")")
      ->check(CLI::Range(0.0, 1.0));
  add_optional(*app, "--epsilon-decay", f->eps_decay,
               "episodes of the linear decay from start to end (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.epsilon.decay_episodes);
               }) + ")")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_option("--initial-q", f->initial_q, "initial value of every Q(s, a)")->capture_default_str();
  add_optional(*app, "--tilings", f->tilings,
               "tile coder: offset tilings (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.tilings);
               }) + ")")
      ->check(CLI::Range(1, 1024));
  add_optional(*app, "--tiles", f->tiles,
               "tile coder: tiles per dimension (default: " + per_env([](const rl::Recipe& r) {
                 return std::to_string(r.tiles);
               }) + ")")
      ->check(CLI::Range(1, 1 << 20));
  app->add_option("--table-size", f->table_size, "tile coder: hash the tiles into this many features (0 = no hashing)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 28));
  app->add_option(
      "--bins", f->bins,
      "q-tabular: bins per dimension, one value or a comma list (default: " + per_env([](const rl::Recipe& r) {
        std::string s;
        for (auto b : r.bins) s += (s.empty() ? "" : ",") + std::to_string(b);
        return s;
      }) + ")");
  app->add_option("--bounds", f->bounds,
                  "box the features span, lo:hi per dimension, comma-separated; observations are clipped to it "
                  "(default: " +
                      default_bounds() + ")");
  app->add_option("--gradients", f->gradients,
                  "auto (row-sparse when the optimizer takes it, else dense) | sparse | dense")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "sparse", "dense"}));
  app->add_option("--max-steps", f->max_steps, "episode time limit (0 = the environment's: 500, 200)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  add_optimizer_flags(*app, f->opt);
  app->get_option("--lr")->description(app->get_option("--lr")->get_description() + "; in rl adagrad defaults to " +
                                       per_env([](const rl::Recipe& r) { return format_number(r.adagrad_lr); }));
  app->add_flag("--stop-when-solved", f->stop_when_solved,
                "stop training once the mean of the last 100 reaches the threshold");
  app->add_option("--curve", f->curve, "write the learning curve CSV: episode, return, epsilon, mean100, steps");
  app->add_option("--progress", f->progress, "print a progress line every N episodes (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000000}));
  app->add_flag("--json", f->json, "print one JSON summary instead of the text");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  action_for(app, action, [f] { return run_rl(*f); });
}

}  // namespace adakit::cli
