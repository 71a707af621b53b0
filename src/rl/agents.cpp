#include "adakit/rl/agents.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "adakit/core/error.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::rl {

std::string_view to_string(Method m) { return m == Method::q_learning ? "q-learning" : "sarsa"; }

Method method_from_string(std::string_view text) {
  if (text == "q-learning") return Method::q_learning;
  if (text == "sarsa") return Method::sarsa;
  throw UsageError("unknown method '" + std::string(text) + "' (q-learning, sarsa)", {"", 0, "method"});
}

std::string_view to_string(GradientMode m) {
  switch (m) {
    case GradientMode::sparse:
      return "sparse";
    case GradientMode::dense:
      return "dense";
    default:
      return "auto";
  }
}

GradientMode gradient_mode_from_string(std::string_view text) {
  if (text == "auto") return GradientMode::automatic;
  if (text == "sparse") return GradientMode::sparse;
  if (text == "dense") return GradientMode::dense;
  throw UsageError("unknown gradient mode '" + std::string(text) + "' (auto, sparse, dense)", {"", 0, "gradients"});
}

void AgentOptions::validate() const {
  if (!(gamma >= 0.0 && gamma <= 1.0)) throw UsageError("agent: gamma must be in [0, 1]", {"", 0, "gamma"});
  if (!std::isfinite(initial_q)) throw UsageError("agent: initial_q must be finite", {"", 0, "initial_q"});
  optim::find_optimizer(optimizer);
}

bool optimizer_takes_sparse_rows(std::string_view optimizer, const optim::OptionMap& options) {
  Parameter probe("probe", Tensor({1, 1}));
  return optim::make_optimizer(optimizer, {&probe}, options)->supports_rows();  // bad options throw here
}

LinearAgent::LinearAgent(std::unique_ptr<FeatureMap> features, std::int64_t num_actions, AgentOptions options)
    : features_(std::move(features)),
      num_actions_(num_actions),
      options_(std::move(options)),
      weights_("q", Tensor({1, 1})),
      rng_(options_.seed) {
  if (!features_) throw UsageError("agent: no feature map");
  if (num_actions_ < 1) throw UsageError("agent: num_actions must be >= 1", {"", 0, "num_actions"});
  options_.validate();
  const auto n = features_->num_features();
  weights_.value() =
      Tensor({n, num_actions_}, static_cast<float>(options_.initial_q / static_cast<double>(features_->num_active())));
  weights_.grad() = Tensor({n, num_actions_});
  switch (options_.gradients) {
    case GradientMode::sparse:
      sparse_ = true;
      break;
    case GradientMode::dense:
      sparse_ = false;
      break;
    default:
      sparse_ = optimizer_takes_sparse_rows(options_.optimizer, options_.optimizer_options);
  }
  optimizer_ = optim::make_optimizer(options_.optimizer, {&weights_}, options_.optimizer_options);
  phi_.resize(static_cast<std::size_t>(features_->num_active()));
  phi_next_.resize(phi_.size());
  q_next_.resize(static_cast<std::size_t>(num_actions_));
}

double LinearAgent::q_of(std::span<const std::int64_t> active, std::int64_t action) const {
  const float* w = weights_.value().data();
  double q = 0.0;
  for (auto i : active) q += w[i * num_actions_ + action];
  return q;
}

void LinearAgent::q_values(std::span<const double> obs, std::span<double> out) const {
  if (out.size() != static_cast<std::size_t>(num_actions_))
    throw UsageError("agent: q_values needs one slot per action");
  std::vector<std::int64_t> active(static_cast<std::size_t>(features_->num_active()));
  features_->active(obs, active);
  for (std::int64_t a = 0; a < num_actions_; ++a) out[static_cast<std::size_t>(a)] = q_of(active, a);
}

std::vector<double> LinearAgent::q_values(std::span<const double> obs) const {
  std::vector<double> q(static_cast<std::size_t>(num_actions_));
  q_values(obs, q);
  return q;
}

std::int64_t LinearAgent::argmax(std::span<const double> q) {
  std::int64_t best = 0, ties = 1;
  for (std::int64_t a = 1; a < num_actions_; ++a) {
    const double v = q[static_cast<std::size_t>(a)], b = q[static_cast<std::size_t>(best)];
    if (v > b) {
      best = a;
      ties = 1;
    } else if (v == b && rng_.below(static_cast<std::uint64_t>(++ties)) == 0) {
      best = a;  // reservoir sampling: each tied action kept with probability 1/ties
    }
  }
  return best;
}

std::int64_t LinearAgent::greedy(std::span<const double> obs) {
  features_->active(obs, phi_);
  for (std::int64_t a = 0; a < num_actions_; ++a) q_next_[static_cast<std::size_t>(a)] = q_of(phi_, a);
  return argmax(q_next_);
}

std::int64_t LinearAgent::act(std::span<const double> obs, double epsilon) {
  if (epsilon > 0.0 && rng_.uniform() < epsilon)
    return static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(num_actions_)));
  return greedy(obs);
}

double LinearAgent::update(std::span<const double> obs, std::int64_t action, double reward,
                           std::span<const double> next_obs, bool terminated, std::int64_t next_action) {
  if (action < 0 || action >= num_actions_) throw UsageError("agent: action out of range", {"", 0, "action"});
  double target = reward;
  if (!terminated) {
    features_->active(next_obs, phi_next_);
    double next = 0.0;
    if (options_.method == Method::q_learning) {
      next = q_of(phi_next_, 0);
      for (std::int64_t a = 1; a < num_actions_; ++a) next = std::max(next, q_of(phi_next_, a));
    } else {
      if (next_action < 0 || next_action >= num_actions_)
        throw UsageError("agent: sarsa needs the next action", {"", 0, "next_action"});
      next = q_of(phi_next_, next_action);
    }
    target += options_.gamma * next;
  }
  features_->active(obs, phi_);
  const double delta = target - q_of(phi_, action);
  const auto g = static_cast<float>(-delta);
  if (sparse_) {
    RowSparseGrad sg;
    sg.indices.assign(phi_.begin(), phi_.end());
    sg.values.assign(phi_.size() * static_cast<std::size_t>(num_actions_), 0.0f);
    for (std::size_t k = 0; k < phi_.size(); ++k)
      sg.values[k * static_cast<std::size_t>(num_actions_) + static_cast<std::size_t>(action)] = g;
    weights_.sparse_grad() = std::move(sg);
    optimizer_->step();
    weights_.sparse_grad().reset();
  } else {
    // The dense gradient is all zeros between updates: set the touched entries, step, zero them again.
    float* grad = weights_.grad().data();
    for (auto i : phi_) grad[i * num_actions_ + action] += g;
    optimizer_->step();
    for (auto i : phi_) grad[i * num_actions_ + action] = 0.0f;
  }
  ++updates_;
  return delta;
}

}  // namespace adakit::rl
