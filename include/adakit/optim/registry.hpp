// The one table of optimizer names. The CLI's --help, the docs and the table-driven tests walk it;
// a static_assert in registry.cpp keeps its count honest.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct OptionHelp {
  std::string key;
  std::string default_value;
  std::string help;
};

struct OptimizerInfo {
  std::string_view name;
  std::string_view summary;    // one line
  std::string_view reference;  // the paper
  std::vector<OptionHelp> (*options)();
  // Builds the optimizer over `params` from options given as text ("lr" -> "0.1"). Keys not in
  // options() are a UsageError. adagrad also takes "convention" (pytorch|keras|optax|tf1|glove),
  // applied first, so that other keys override the preset.
  std::unique_ptr<Optimizer> (*make)(std::vector<Parameter*> params, const OptionMap& options);
};

std::span<const OptimizerInfo> optimizers();
// UsageError listing the valid names when `name` is unknown.
const OptimizerInfo& find_optimizer(std::string_view name);
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::vector<Parameter*> params,
                                          const OptionMap& options = {});
// "adagrad:lr=0.1,lr_decay=0.01" -> name and options (the form `adakit compare` and `--optimizer` take).
// Checks the syntax only: the name is looked up by whoever builds the optimizer (this registry, or
// linear/registry.hpp for the sparse linear models). UsageError on an item that is not key=value.
std::pair<std::string, OptionMap> parse_optimizer_spec(std::string_view spec);

}  // namespace adakit::optim
