#include "adakit/rl/loop.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::rl {

double EpsilonSchedule::at(std::int64_t episode) const {
  if (decay_episodes <= 0) return end;
  const double frac = std::max(0.0, 1.0 - static_cast<double>(episode) / static_cast<double>(decay_episodes));
  return end + (start - end) * frac;
}

void EpsilonSchedule::validate() const {
  if (!(start >= 0.0 && start <= 1.0)) throw UsageError("epsilon start must be in [0, 1]", {"", 0, "epsilon_start"});
  if (!(end >= 0.0 && end <= 1.0)) throw UsageError("epsilon end must be in [0, 1]", {"", 0, "epsilon_end"});
  if (decay_episodes < 0) throw UsageError("epsilon decay episodes must be >= 0", {"", 0, "epsilon_decay"});
}

std::uint64_t episode_seed(std::uint64_t seed, std::uint64_t stream, std::int64_t episode) {
  // SplitMix64 of (seed, stream, episode): neighbouring seeds give unrelated start states.
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (stream + 1) * 0xd1b54a32d192ed03ULL +
                    static_cast<std::uint64_t>(episode) * 0x8cb92ba72f3d8dd7ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void TrainOptions::validate() const {
  if (episodes < 0) throw UsageError("episodes must be >= 0", {"", 0, "episodes"});
  if (window < 1) throw UsageError("window must be >= 1", {"", 0, "window"});
  epsilon.validate();
}

TrainResult train(Env& env, LinearAgent& agent, const TrainOptions& options,
                  const std::function<bool(const EpisodeStats&)>& on_episode) {
  options.validate();
  if (env.num_actions() != agent.num_actions())
    throw UsageError("the agent has " + std::to_string(agent.num_actions()) + " actions, the environment " +
                     std::to_string(env.num_actions()));
  const auto t0 = std::chrono::steady_clock::now();
  TrainResult result;
  std::deque<double> window;
  double window_sum = 0.0;
  const bool sarsa = agent.options().method == Method::sarsa;
  for (std::int64_t e = 0; e < options.episodes && !result.diverged; ++e) {
    const double eps = options.epsilon.at(e);
    Observation obs = env.reset(episode_seed(options.seed, 0, e));
    std::int64_t action = agent.act(obs, eps);
    EpisodeStats st;
    st.episode = e + 1;
    st.epsilon = eps;
    for (;;) {
      StepResult r = env.step(action);
      st.ret += r.reward;
      ++st.steps;
      double delta;
      std::int64_t next = -1;
      if (sarsa) {
        if (!r.terminated) next = agent.act(r.observation, eps);
        delta = agent.update(obs, action, r.reward, r.observation, r.terminated, next);
      } else {
        delta = agent.update(obs, action, r.reward, r.observation, r.terminated);
        if (!r.done()) next = agent.act(r.observation, eps);
      }
      if (!std::isfinite(delta)) {
        result.diverged = true;
        break;
      }
      if (r.done()) break;
      obs = std::move(r.observation);
      action = next;
    }
    result.total_steps += st.steps;
    window.push_back(st.ret);
    window_sum += st.ret;
    if (static_cast<std::int64_t>(window.size()) > options.window) {
      window_sum -= window.front();
      window.pop_front();
    }
    st.mean_window = window_sum / static_cast<double>(window.size());
    result.episodes.push_back(st);
    const bool full = static_cast<std::int64_t>(window.size()) == options.window;
    if (full && !result.episodes_to_solve && st.mean_window >= options.solved_return)
      result.episodes_to_solve = st.episode;
    if (on_episode && on_episode(st)) break;
    if (options.stop_when_solved && result.episodes_to_solve) break;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

EvalResult evaluate(Env& env, LinearAgent& agent, std::int64_t episodes, std::uint64_t seed, double epsilon) {
  if (episodes < 0) throw UsageError("evaluation episodes must be >= 0", {"", 0, "eval"});
  EvalResult out;
  for (std::int64_t i = 0; i < episodes; ++i) {
    Observation obs = env.reset(episode_seed(seed, 1, i));
    double ret = 0.0;
    for (;;) {
      StepResult r = env.step(agent.act(obs, epsilon));
      ret += r.reward;
      if (r.done()) break;
      obs = std::move(r.observation);
    }
    out.returns.push_back(ret);
  }
  if (!out.returns.empty()) {
    double sum = 0.0, sq = 0.0;
    out.min = out.max = out.returns[0];
    for (double r : out.returns) {
      sum += r;
      out.min = std::min(out.min, r);
      out.max = std::max(out.max, r);
    }
    out.mean = sum / static_cast<double>(out.returns.size());
    for (double r : out.returns) sq += (r - out.mean) * (r - out.mean);
    out.stddev = std::sqrt(sq / static_cast<double>(out.returns.size()));
  }
  return out;
}

}  // namespace adakit::rl
