#include "adakit/rl/run.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/report/curve.hpp"
#include "adakit/rl/agents.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/tiles.hpp"

namespace adakit::rl {
namespace {

using report::format_number;
using report::number_or_null;

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

// The feature map of the agent kind and its description ("bins 1x1x6x12", "8 tilings of 8^4 tiles").
std::unique_ptr<FeatureMap> make_features(const RunOptions& f, const EnvInfo& info, const Recipe& recipe,
                                          std::string& text) {
  std::vector<double> low = info.feature_low, high = info.feature_high;
  if (!f.bounds.empty()) parse_bounds(f.bounds, low.size(), low, high);
  if (f.agent == "q-tabular") {
    if (f.tilings || f.tiles || f.table_size != 0)
      throw UsageError("--tilings, --tiles and --table-size are for the linear agents; q-tabular takes --bins",
                       {"", 0, "agent"});
    const auto bins = f.bins.empty() ? recipe.bins : parse_bins(f.bins);
    for (auto b : bins) text += (text.empty() ? "" : "x") + std::to_string(b);
    text = "bins " + text;
    return std::make_unique<UniformBins>(BinsOptions{low, high, bins});
  }
  if (!f.bins.empty()) throw UsageError("--bins is for q-tabular", {"", 0, "bins"});
  TileCoderOptions to{low, high, f.tilings.value_or(recipe.tilings), f.tiles.value_or(recipe.tiles), f.table_size, 0};
  auto coder = std::make_unique<TileCoder>(to);
  text = std::to_string(to.tilings) + " tilings of " + std::to_string(to.tiles) + "^" + std::to_string(low.size()) +
         " tiles" + (coder->hashed() ? ", hashed" : "");
  return coder;
}

}  // namespace

std::string curve_csv(const TrainResult& result) {
  std::string csv = "episode,return,epsilon,mean100,steps\n";
  for (const auto& s : result.episodes)
    csv += std::to_string(s.episode) + ',' + format_number(s.ret) + ',' + format_number(s.epsilon) + ',' +
           format_number(s.mean_window) + ',' + std::to_string(s.steps) + '\n';
  return csv;
}

RunReport run(const RunOptions& f, const RunCallbacks& callbacks) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& info = find_env(f.env);
  const auto& recipe = recipe_for(f.env);
  auto env = make_env(f.env, f.max_steps);
  if (f.agent != "q-linear" && f.agent != "sarsa-linear" && f.agent != "q-tabular")
    throw UsageError("unknown agent '" + f.agent + "' (q-linear, sarsa-linear, q-tabular)", {"", 0, "agent"});
  std::string features_text;
  auto features = make_features(f, info, recipe, features_text);
  const auto num_features = features->num_features();

  AgentOptions ao;
  ao.method = f.agent == "sarsa-linear" ? Method::sarsa : Method::q_learning;
  ao.gamma = f.gamma.value_or(recipe.gamma);
  ao.initial_q = f.initial_q;
  ao.optimizer = f.optimizer;
  ao.optimizer_options = f.optimizer_options;
  if (ao.optimizer == "adagrad" && !ao.optimizer_options.contains("lr"))
    ao.optimizer_options["lr"] = optim::format_double(recipe.adagrad_lr);
  ao.gradients = gradient_mode_from_string(f.gradients);
  ao.seed = f.seed;
  LinearAgent agent(std::move(features), env->num_actions(), ao);
  agent.optimizer().set_schedule(optim::Schedule::parse(f.schedule));
  agent.optimizer().set_clip({f.clip_norm, f.clip_value});

  TrainOptions to;
  to.episodes = f.episodes.value_or(recipe.episodes);
  to.seed = f.seed;
  to.epsilon = {f.epsilon_start.value_or(recipe.epsilon.start), f.epsilon_end.value_or(recipe.epsilon.end),
                f.epsilon_decay.value_or(recipe.epsilon.decay_episodes)};
  to.solved_return = info.solved_return;
  to.stop_when_solved = f.stop_when_solved;
  to.validate();

  if (callbacks.on_start) {
    char line[512];
    std::snprintf(line, sizeof line, "rl %s: %s (%s), %s, %s lr %s, %lld features x %lld actions, %s gradients, %lld episodes",
                  f.env.c_str(), f.agent.c_str(), std::string(to_string(ao.method)).c_str(), features_text.c_str(),
                  ao.optimizer.c_str(), format_number(agent.optimizer().lr()).c_str(),
                  static_cast<long long>(num_features), static_cast<long long>(env->num_actions()),
                  agent.sparse_gradients() ? "row-sparse" : "dense", static_cast<long long>(to.episodes));
    callbacks.on_start(line);
  }
  RunReport r;
  r.solved_return = info.solved_return;
  r.train = train(*env, agent, to, callbacks.on_episode);
  r.eval = r.train.diverged ? EvalResult{} : evaluate(*env, agent, f.eval, f.seed);
  const auto& ev = r.eval;
  const double final_mean = r.train.episodes.empty() ? 0.0 : r.train.episodes.back().mean_window;
  const auto eval_or_null = [&](double v) { return ev.returns.empty() ? nlohmann::json(nullptr) : nlohmann::json(v); };
  r.summary = {{"env", f.env},
               {"agent", f.agent},
               {"method", to_string(ao.method)},
               {"optimizer", ao.optimizer},
               {"options", agent.optimizer().group_options(0)},
               {"gradients", agent.sparse_gradients() ? "sparse" : "dense"},
               {"features", num_features},
               {"feature_map", features_text},
               {"seed", f.seed},
               {"gamma", ao.gamma},
               {"episodes", static_cast<std::int64_t>(r.train.episodes.size())},
               {"total_steps", r.train.total_steps},
               {"final_mean100", number_or_null(final_mean)},
               {"solve_threshold", info.solved_return},
               {"episodes_to_solve",
                r.train.episodes_to_solve ? nlohmann::json(*r.train.episodes_to_solve) : nlohmann::json(nullptr)},
               {"eval_episodes", f.eval},
               {"eval_mean_return", eval_or_null(ev.mean)},
               {"eval_std_return", eval_or_null(ev.stddev)},
               {"eval_min_return", eval_or_null(ev.min)},
               {"eval_max_return", eval_or_null(ev.max)},
               {"solved", !ev.returns.empty() && ev.mean >= info.solved_return},
               {"diverged", r.train.diverged},
               {"train_seconds", r.train.seconds},
               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  std::vector<double> x, ret, mean;
  for (const auto& s : r.train.episodes) {
    x.push_back(static_cast<double>(s.episode));
    ret.push_back(s.ret);
    mean.push_back(s.mean_window);
  }
  r.summary["curve"] = report::curve_json("episode", x, {{"return", ret}, {"mean100_return", mean}});
  return r;
}

std::string report_text(const RunReport& r) {
  const auto& t = r.train;
  const auto& ev = r.eval;
  std::string s = format_printf("trained %lld episodes (%lld steps) in %.2fs; mean of the last 100: %.2f\n",
                                static_cast<long long>(t.episodes.size()), static_cast<long long>(t.total_steps),
                                t.seconds, t.episodes.empty() ? 0.0 : t.episodes.back().mean_window);
  if (t.episodes_to_solve)
    s += format_printf("solved at episode %lld (mean of the last 100 >= %g)\n",
                       static_cast<long long>(*t.episodes_to_solve), r.solved_return);
  else
    s += format_printf("not solved in training (mean of the last 100 never reached %g)\n", r.solved_return);
  if (!ev.returns.empty())
    s += format_printf("evaluation over %lld greedy episodes: mean %.2f  std %.2f  min %g  max %g%s\n",
                       static_cast<long long>(r.summary.value("eval_episodes", std::int64_t{0})), ev.mean, ev.stddev,
                       ev.min, ev.max, ev.mean >= r.solved_return ? "  (solved)" : "");
  return s;
}

std::string progress_line(const EpisodeStats& s) {
  return format_printf("episode %6lld  return %6.1f  mean100 %7.2f  epsilon %.3f", static_cast<long long>(s.episode),
                       s.ret, s.mean_window, s.epsilon);
}

}  // namespace adakit::rl
