// The one table of optimizer names for sparse linear models. The CLI builds its flags (--lr --l1
// --l2 --alpha --beta ...) and their help from it; a static_assert in registry.cpp keeps the count.
//
//   name          options                                    class (header)
//   adagrad       optim::AdagradOptions but weight_decay     LazyAdagrad (linear/adagrad.hpp)
//                 (+ "convention", applied first)
//   adagrad-l1    lr, l1, l2, eps, initial_accumulator_value AdagradL1   (linear/prox.hpp)
//   adagrad-rda   lr, l1, l2, eps                            AdagradRda  (linear/rda.hpp)
//   ftrl          alpha, beta, l1, l2                        Ftrl        (linear/ftrl.hpp)
//   sgd           lr, l1, l2                                 LazySgd     (linear/prox.hpp)
#pragma once
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::linear {

struct LinearOptimizerInfo {
  std::string_view name;
  std::string_view summary;    // one line
  std::string_view reference;  // the paper
  std::vector<optim::OptionHelp> (*options)();  // key, default, help
  // Options as text ("l1" -> "0.5"); a key not in options() is a UsageError listing the valid keys.
  std::unique_ptr<LinearOptimizer> (*make)(const optim::OptionMap& options);
};

std::span<const LinearOptimizerInfo> linear_optimizers();
// UsageError listing the valid names when `name` is unknown.
const LinearOptimizerInfo& find_linear_optimizer(std::string_view name);
std::unique_ptr<LinearOptimizer> make_linear_optimizer(std::string_view name, const optim::OptionMap& options = {});

}  // namespace adakit::linear
