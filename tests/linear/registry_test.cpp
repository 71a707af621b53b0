// The linear optimizer table: five names, option help with defaults, the text factory.
#include <gtest/gtest.h>

#include <set>

#include "adakit/core/error.hpp"
#include "adakit/linear/registry.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;

std::string field_of_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const UsageError& e) {
    return e.context().field;
  }
  return "no error";
}

TEST(LinearRegistry, ListsFiveOptimizersWithOptionHelpAndDefaults) {
  std::set<std::string_view> names;
  for (const auto& info : linear_optimizers()) {
    names.insert(info.name);
    EXPECT_FALSE(info.summary.empty());
    EXPECT_FALSE(info.reference.empty());
    const auto help = info.options();
    ASSERT_FALSE(help.empty()) << info.name;
    optim::OptionMap defaults;
    for (const auto& h : help) {
      EXPECT_FALSE(h.help.empty()) << info.name << " " << h.key;
      if (h.key != "convention") defaults[h.key] = h.default_value;
    }
    // Built from its own defaults, the optimizer reports exactly those options.
    auto opt = info.make(defaults);
    EXPECT_EQ(opt->name(), info.name);
    EXPECT_EQ(opt->option_map(), defaults) << info.name;
    EXPECT_EQ(&find_linear_optimizer(info.name), &info);
  }
  EXPECT_EQ(names, (std::set<std::string_view>{"adagrad", "adagrad-l1", "adagrad-rda", "ftrl", "sgd"}));
}

TEST(LinearRegistry, FactoryTakesTheCliOptionsAndRejectsOthers) {
  auto ftrl = make_linear_optimizer("ftrl", {{"alpha", "0.5"}, {"beta", "2"}, {"l1", "1.5"}, {"l2", "0.25"}});
  EXPECT_EQ(ftrl->option_map().at("alpha"), "0.5");
  EXPECT_EQ(ftrl->option_map().at("l1"), "1.5");
  auto l1 = make_linear_optimizer("adagrad-l1", {{"lr", "0.3"}, {"l1", "0.01"}, {"l2", "0.1"}});
  EXPECT_EQ(l1->option_map().at("lr"), "0.3");
  auto sgd = make_linear_optimizer("sgd", {{"lr", "0.1"}, {"l2", "0.01"}});
  EXPECT_EQ(sgd->option_map().at("l2"), "0.01");
  auto keras = make_linear_optimizer("adagrad", {{"convention", "keras"}, {"lr", "0.2"}});
  EXPECT_EQ(keras->option_map().at("eps_mode"), "inside");
  EXPECT_EQ(keras->option_map().at("lr"), "0.2");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("ftrl", {{"lr", "0.1"}}); }), "lr");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("adagrad", {{"l1", "0.1"}}); }), "l1");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("adagrad", {{"weight_decay", "0.1"}}); }), "weight_decay");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("adagrad-rda", {{"l1", "-2"}}); }), "l1");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("adagrad-l1", {{"lr", "abc"}}); }), "lr");
  EXPECT_EQ(field_of_error([] { make_linear_optimizer("adam"); }), "optimizer");
}

TEST(LinearRegistry, StateIsBoundToOneModelShape) {
  auto opt = make_linear_optimizer("adagrad-l1");
  LinearModel a(LinearTask::logistic, 100), b(LinearTask::softmax, 100, 3);
  SparseGradient g;
  EXPECT_THROW(opt->step(a, g), UsageError);  // not bound yet
  opt->bind(a);
  EXPECT_THROW(opt->bind(b), UsageError);
  g.outputs = 1;
  g.features = {3, 200};
  g.values = {0.5f, 0.5f};
  g.bias = {0.1f};
  EXPECT_THROW(opt->step(a, g), UsageError);  // feature 200 outside dim
  opt->reset(b);
  EXPECT_EQ(opt->steps(), 0);
}

}  // namespace
