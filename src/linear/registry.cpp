#include "adakit/linear/registry.hpp"

#include <array>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/ftrl.hpp"
#include "adakit/linear/prox.hpp"
#include "adakit/linear/rda.hpp"
#include "adakit/optim/adagrad.hpp"

namespace adakit::linear {
namespace {

template <class Options, class Fields>
std::vector<optim::OptionHelp> help_from(const Fields& fields) {
  std::vector<optim::OptionHelp> out;
  static const Options defaults{};  // static: avoids a GCC 12 -Wmaybe-uninitialized false positive
  for (const auto& f : fields) out.push_back({std::string(f.key), optim::get_field(defaults, f), std::string(f.help)});
  return out;
}

template <class Opt>
std::vector<optim::OptionHelp> class_help() {
  using Options = std::remove_cvref_t<decltype(std::declval<Opt>().options())>;
  return help_from<Options>(Opt::fields());
}

template <class Opt>
std::unique_ptr<LinearOptimizer> make_class(const optim::OptionMap& map) {
  using Options = std::remove_cvref_t<decltype(std::declval<Opt>().options())>;
  Options o;
  optim::apply_options(o, Opt::fields(), map, Opt::kName);
  return std::make_unique<Opt>(o);  // the constructor validates
}

std::vector<optim::OptionHelp> adagrad_help() {
  auto out = class_help<LazyAdagrad>();
  std::string names;
  for (auto n : optim::adagrad_convention_names()) names += (names.empty() ? "" : "|") + std::string(n);
  out.insert(out.begin(), {"convention", "pytorch", "preset applied first: " + names});
  return out;
}

std::unique_ptr<LinearOptimizer> make_adagrad(const optim::OptionMap& map) {
  optim::AdagradOptions o;
  optim::OptionMap rest = map;
  if (auto it = rest.find("convention"); it != rest.end()) {
    o = optim::adagrad_convention(it->second);
    rest.erase(it);
  }
  optim::apply_options(o, LazyAdagrad::fields(), rest, LazyAdagrad::kName);
  return std::make_unique<LazyAdagrad>(o);
}

constexpr auto kLinearOptimizers = std::to_array<LinearOptimizerInfo>({
    {LazyAdagrad::kName, "lazy AdaGrad, exactly the dense update (PyTorch semantics)",
     "Duchi, Hazan & Singer, JMLR 2011", &adagrad_help, &make_adagrad},
    {AdagradL1::kName, "AdaGrad composite mirror descent with L1/L2, lazy closed-form catch-up",
     "Duchi, Hazan & Singer, JMLR 2011 (eq. 4, Section 5.1)", &class_help<AdagradL1>, &make_class<AdagradL1>},
    {AdagradRda::kName, "AdaGrad regularised dual averaging with L1/L2",
     "Duchi, Hazan & Singer, JMLR 2011 (eq. 3, Section 5.1)", &class_help<AdagradRda>, &make_class<AdagradRda>},
    {Ftrl::kName, "FTRL-Proximal with per-coordinate rates and L1/L2",
     "McMahan et al., KDD 2013 (Algorithm 1)", &class_help<Ftrl>, &make_class<Ftrl>},
    {LazySgd::kName, "proximal SGD (FOBOS) with L1/L2, lazy closed-form catch-up",
     "Duchi & Singer, JMLR 2009", &class_help<LazySgd>, &make_class<LazySgd>},
});
// Tripwires. The size follows the rows, so a new row fails the count until registry.hpp's list,
// docs/optimizers.md's table (tests/optim/docs_table_test.cpp) and the suite's list
// (tests/linear/suite_test.cpp) have it too.
static_assert(kLinearOptimizers.size() == 5, "a new linear optimizer needs its row here, in the docs and in the suite");
constexpr Registry<LinearOptimizerInfo> kRegistry{kLinearOptimizers,
                                                  {"unknown linear optimizer '{name}' ({names})", "optimizer"}};
static_assert(kRegistry.names_are_unique(), "two linear optimizers share a name");

}  // namespace

std::span<const LinearOptimizerInfo> linear_optimizers() { return kLinearOptimizers; }

const LinearOptimizerInfo& find_linear_optimizer(std::string_view name) { return kRegistry.at(name); }

std::unique_ptr<LinearOptimizer> make_linear_optimizer(std::string_view name, const optim::OptionMap& options) {
  return find_linear_optimizer(name).make(options);
}

}  // namespace adakit::linear
