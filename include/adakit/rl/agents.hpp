// Linear Q-learning and SARSA over sparse binary features (a tile coder, or bins for tabular
// Q-learning), with the TD update done by any adakit optimizer.
//
// Q(s, a) = sum over the active features i of s of W[i, a], W a [num_features x num_actions] Parameter.
// One update from the transition (s, a, r, s'):
//   target = r                          if s' is terminal (terminated; a truncated s' still bootstraps)
//   target = r + gamma * max_b Q(s', b)  Q-learning (Watkins 1989)
//   target = r + gamma * Q(s', a')       SARSA (Rummery & Niranjan 1994), a' the action taken at s'
//   delta  = target - Q(s, a)
//   grad W[i, a] = -delta for each active feature i of s (the gradient of delta^2 / 2 with the target
//   held fixed; a feature active twice, through a hash collision, gets -2 delta); every other entry 0.
// then optimizer.step(): SGD with lr alpha is the textbook rule W[i, a] += alpha * delta; AdaGrad divides
// each weight's step by the root of its own sum of squared TD errors, so often-visited tiles settle while
// rare ones still move.
//
// Gradients: row-sparse (only the active rows, all actions' columns, zero outside column a) when the
// optimizer takes row-sparse gradients (adagrad, without weight decay); otherwise dense, the whole table's
// gradient zero except the touched entries. GradientMode::automatic finds out which by one trial step of
// the same optimizer on a 1 x 1 probe. Both give the same result for optimizers whose update is zero for a
// zero gradient (adagrad, plain sgd); for optimizers with momentum (adam, rmsprop, sgd with momentum)
// the dense path is the exact optimizer: zero-gradient weights keep moving with their momentum, and each
// step costs O(table size) — keep the table small (a hashed table of 4096-16384 features).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/rl/tiles.hpp"

namespace adakit::rl {

enum class Method { q_learning, sarsa };
std::string_view to_string(Method m);
Method method_from_string(std::string_view text);  // "q-learning" | "sarsa"; UsageError otherwise

enum class GradientMode { automatic, sparse, dense };
std::string_view to_string(GradientMode m);
GradientMode gradient_mode_from_string(std::string_view text);  // "auto" | "sparse" | "dense"

struct AgentOptions {
  Method method = Method::q_learning;
  double gamma = 0.99;
  double initial_q = 0.0;              // every Q(s, a) starts here: W = initial_q / num_active
  std::string optimizer = "adagrad";   // a name of optim::optimizers()
  optim::OptionMap optimizer_options;  // {"lr": "0.1"}; the optimizer's defaults for the rest
  GradientMode gradients = GradientMode::automatic;
  std::uint64_t seed = 0;  // exploration and tie-breaking
  void validate() const;   // UsageError naming the field
};

class LinearAgent {
 public:
  LinearAgent(std::unique_ptr<FeatureMap> features, std::int64_t num_actions, AgentOptions options);

  std::int64_t num_actions() const noexcept { return num_actions_; }
  const AgentOptions& options() const noexcept { return options_; }
  const FeatureMap& features() const noexcept { return *features_; }
  Parameter& weights() noexcept { return weights_; }
  const Parameter& weights() const noexcept { return weights_; }
  optim::Optimizer& optimizer() noexcept { return *optimizer_; }
  bool sparse_gradients() const noexcept { return sparse_; }
  std::int64_t updates() const noexcept { return updates_; }

  void q_values(std::span<const double> obs, std::span<double> out) const;
  std::vector<double> q_values(std::span<const double> obs) const;
  // argmax_a Q(obs, a), ties broken uniformly at random (seeded).
  std::int64_t greedy(std::span<const double> obs);
  // epsilon-greedy: a uniformly random action with probability epsilon, else greedy.
  std::int64_t act(std::span<const double> obs, double epsilon);
  // One TD update (see the top of this file); returns delta. next_action is used by SARSA only
  // (ignored when terminated).
  double update(std::span<const double> obs, std::int64_t action, double reward, std::span<const double> next_obs,
                bool terminated, std::int64_t next_action = -1);

 private:
  double q_of(std::span<const std::int64_t> active, std::int64_t action) const;
  std::int64_t argmax(std::span<const double> q);

  std::unique_ptr<FeatureMap> features_;
  std::int64_t num_actions_;
  AgentOptions options_;
  Parameter weights_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  bool sparse_ = false;
  Rng rng_;
  std::int64_t updates_ = 0;
  std::vector<std::int64_t> phi_, phi_next_;  // scratch: active features of s and s'
  std::vector<double> q_next_;
};

// Does `optimizer` with `options` take a row-sparse gradient (Optimizer::supports_rows)? UsageError on
// an unknown optimizer or bad options.
bool optimizer_takes_sparse_rows(std::string_view optimizer, const optim::OptionMap& options);

}  // namespace adakit::rl
