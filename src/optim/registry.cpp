#include "adakit/optim/registry.hpp"

#include <array>

#include "adakit/core/registry.hpp"

#include "adakit/optim/adadelta.hpp"
#include "adakit/optim/adafactor.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/adagrad_full.hpp"
#include "adakit/optim/adagrad_norm.hpp"
#include "adakit/optim/adam.hpp"
#include "adakit/optim/rmsprop.hpp"
#include "adakit/optim/sgd.hpp"
#include "adakit/optim/shampoo.hpp"
#include "adakit/optim/sm3.hpp"

namespace adakit::optim {
namespace {

template <class Rule>
std::vector<OptionHelp> rule_options() {
  std::vector<OptionHelp> out;
  static const typename Rule::Options defaults{};
  for (const auto& f : Rule::fields())
    out.push_back({std::string(f.key), get_field(defaults, f), std::string(f.help)});
  return out;
}

template <class Rule>
std::unique_ptr<Optimizer> make_rule(std::vector<Parameter*> params, const OptionMap& options) {
  return std::make_unique<RuleOptimizer<Rule>>(std::move(params), options);
}

std::vector<OptionHelp> adagrad_help() {
  auto out = rule_options<AdagradRule>();
  std::string names;
  for (auto n : adagrad_convention_names()) names += (names.empty() ? "" : "|") + std::string(n);
  out.insert(out.begin(), {"convention", "pytorch", "preset applied first: " + names});
  return out;
}

std::unique_ptr<Optimizer> make_adagrad(std::vector<Parameter*> params, const OptionMap& options) {
  AdagradOptions base;
  OptionMap rest = options;
  if (auto it = rest.find("convention"); it != rest.end()) {
    base = adagrad_convention(it->second);
    rest.erase(it);
  }
  return std::make_unique<Adagrad>(std::move(params), Adagrad::options_from(rest, base));
}

constexpr auto kOptimizers = std::to_array<OptimizerInfo>({
    {"adagrad", "AdaGrad: per-coordinate steps lr/sqrt(sum of g^2)",
     "Duchi, Hazan & Singer, JMLR 2011", &adagrad_help, &make_adagrad},
    {"sgd", "stochastic gradient descent with momentum / Nesterov", "Polyak 1964; Sutskever et al., ICML 2013",
     &rule_options<SgdRule>, &make_rule<SgdRule>},
    {"adam", "Adam (AMSGrad optional), L2 weight decay", "Kingma & Ba, ICLR 2015; Reddi et al., ICLR 2018",
     &rule_options<AdamRule>, &make_rule<AdamRule>},
    {"adamw", "Adam with decoupled weight decay", "Loshchilov & Hutter, ICLR 2019", &rule_options<AdamWRule>,
     &make_rule<AdamWRule>},
    {"rmsprop", "RMSProp (centered, momentum optional)", "Tieleman & Hinton 2012; Graves 2013",
     &rule_options<RmspropRule>, &make_rule<RmspropRule>},
    {"adadelta", "Adadelta: unit-corrected running averages", "Zeiler, arXiv:1212.5701", &rule_options<AdadeltaRule>,
     &make_rule<AdadeltaRule>},
    // The AdaGrad family beyond the diagonal: tensor rules (they see each parameter's shape).
    {"adagrad-norm", "AdaGrad-Norm: one step size lr/b per tensor (or group), b^2 = b0^2 + sum |g|^2",
     "Ward, Wu & Bottou, ICML 2019", &rule_options<AdagradNormRule>, &make_rule<AdagradNormRule>},
    {"adagrad-full", "full-matrix AdaGrad: (eps I + G^1/2)^-1 g, G = sum g g^T, block-diagonal",
     "Duchi, Hazan & Singer, JMLR 2011", &rule_options<AdagradFullRule>, &make_rule<AdagradFullRule>},
    {"sm3", "SM3: AdaGrad with row/column (per-axis) accumulators, O(m+n) memory",
     "Anil, Gupta, Koren & Singer, NeurIPS 2019", &rule_options<Sm3Rule>, &make_rule<Sm3Rule>},
    {"shampoo", "Shampoo: L^-1/4 G R^-1/4, blocked, AdaGrad grafting",
     "Gupta, Koren & Singer, ICML 2018; Anil et al., arXiv:2002.09018", &rule_options<ShampooRule>,
     &make_rule<ShampooRule>},
    {"adafactor", "Adafactor: factored second moments, relative step size, update clipping",
     "Shazeer & Stern, ICML 2018", &rule_options<AdafactorRule>, &make_rule<AdafactorRule>},
});
// Tripwires. The size follows the rows, so a new row fails the count until the docs' tables (README.md,
// docs/optimizers.md: tests/optim/docs_table_test.cpp) and the suite's list (tests/optim/suite_test.cpp)
// have it too.
static_assert(kOptimizers.size() == 11, "a new optimizer needs its row here, in the docs' tables and in the suite");
constexpr Registry<OptimizerInfo> kRegistry{kOptimizers, {"unknown optimizer '{name}' ({names})", "optimizer"}};
static_assert(kRegistry.names_are_unique(), "two optimizers share a name");

}  // namespace

std::span<const OptimizerInfo> optimizers() { return kOptimizers; }

const OptimizerInfo& find_optimizer(std::string_view name) { return kRegistry.at(name); }

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::vector<Parameter*> params,
                                          const OptionMap& options) {
  return find_optimizer(name).make(std::move(params), options);
}

std::pair<std::string, OptionMap> parse_optimizer_spec(std::string_view spec) {
  const auto colon = spec.find(':');
  std::string name(spec.substr(0, colon));
  OptionMap options;
  std::string_view rest = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw UsageError("optimizer option '" + std::string(item) + "' is not key=value (in '" + std::string(spec) + "')",
                       {"", 0, "optimizer"});
    std::string key(item.substr(0, eq));
    for (auto& c : key)
      if (c == '-') c = '_';
    options[key] = std::string(item.substr(eq + 1));
  }
  if (name.empty()) throw UsageError("no optimizer name in '" + std::string(spec) + "'", {"", 0, "optimizer"});
  return {name, options};
}

}  // namespace adakit::optim
