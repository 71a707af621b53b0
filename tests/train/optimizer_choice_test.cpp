// Choosing optimizers from the registries (train/optimizer_choice.hpp) and the data-parallel choice
// (train/parallel.hpp): what --optimizer, the option flags and --dist resolve to.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "adakit/core/error.hpp"
#include "adakit/train/optimizer_choice.hpp"
#include "adakit/train/parallel.hpp"

namespace {
using namespace adakit;
using train::OptimizerKind;

TEST(TrainOptimizerChoice, SplitKeepsOptionsWithTheirSpec) {
  EXPECT_EQ(train::split_optimizer_list("adagrad,sgd:lr=0.1,momentum=0.9,adam"),
            (std::vector<std::string>{"adagrad", "sgd:lr=0.1,momentum=0.9", "adam"}));
  EXPECT_EQ(train::split_optimizer_list(",adam,,"), (std::vector<std::string>{"adam"}));
  EXPECT_TRUE(train::split_optimizer_list("").empty());
}

TEST(TrainOptimizerChoice, FlagValuesGoToTheOptimizersThatTakeThem) {
  const auto runs = train::resolve_optimizers("adagrad,sgd:lr=0.1", {{"lr", "0.05"}, {"momentum", "0.9"}});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].name, "adagrad");
  EXPECT_EQ(runs[0].options, (optim::OptionMap{{"lr", "0.05"}}));  // adagrad has no momentum
  EXPECT_EQ(runs[1].name, "sgd");
  EXPECT_EQ(runs[1].options, (optim::OptionMap{{"lr", "0.1"}, {"momentum", "0.9"}}));  // the spec's lr wins
  EXPECT_EQ(train::resolve_optimizers("all", {}).size(), train::optimizer_names(OptimizerKind::dense).size());
  const auto linear = train::resolve_optimizers("ftrl", {{"l1", "0.5"}}, OptimizerKind::linear);
  ASSERT_EQ(linear.size(), 1u);
  EXPECT_EQ(linear[0].options.at("l1"), "0.5");
}

TEST(TrainOptimizerChoice, ValuesThatApplyNowhereAreUsageErrors) {
  try {
    train::resolve_optimizers("sgd", {{"lr_decay", "0.1"}});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "field 'lr_decay': --lr-decay does not apply to sgd");
  }
  try {
    train::resolve_optimizers("sgd,adam", {{"l1", "1"}});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "field 'l1': --l1 applies to none of the chosen optimizers");
  }
  EXPECT_THROW(train::resolve_optimizers("", {}), UsageError);
  EXPECT_THROW(train::resolve_optimizers("nope", {}), UsageError);
  EXPECT_THROW(train::resolve_optimizers("adam", {}, OptimizerKind::linear), UsageError);  // a dense one
}

TEST(TrainOptimizerChoice, OptionFlagHelpListsEveryKeyOnceWithAllDefaults) {
  EXPECT_EQ(train::option_flag("lr_decay"), "--lr-decay");
  const auto help = train::option_flag_help();
  const auto lr = std::find_if(help.begin(), help.end(), [](const auto& h) { return h.key == "lr"; });
  ASSERT_NE(lr, help.end());
  EXPECT_EQ(lr->defaults.rfind("adagrad 0.01", 0), 0u);  // the registry's first optimizer first
  EXPECT_NE(lr->defaults.find("(linear)"), std::string::npos);
  for (std::size_t i = 0; i < help.size(); ++i)
    for (std::size_t j = i + 1; j < help.size(); ++j) EXPECT_NE(help[i].key, help[j].key);
  const auto l1 = std::find_if(help.begin(), help.end(), [](const auto& h) { return h.key == "l1"; });
  ASSERT_NE(l1, help.end());
  EXPECT_EQ(l1->defaults.find("adagrad "), std::string::npos);  // linear optimizers only
}

TEST(TrainParallel, ChoiceValidationAndWorldSize) {
  EXPECT_NO_THROW((train::DataParallelChoice{"sharded", 1}.validate()));
  try {
    train::DataParallelChoice{"zero3", 256}.validate();
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "field 'dist': --dist must be replicated or sharded");
  }
  EXPECT_THROW((train::DataParallelChoice{"replicated", 0}.validate()), UsageError);
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr && std::getenv("PMI_SIZE") == nullptr &&
      std::getenv("PMIX_SIZE") == nullptr) {
    EXPECT_EQ(train::mpirun_world_size(), 0);
  }
}

}  // namespace
