// What `adakit minimize` prints, from train::minimize_runs: one run's JSON object or {"runs"}, the title,
// the table and the summary file line; {"all"} runs every test function.
#include <gtest/gtest.h>

#include "adakit/train/minimize_runs.hpp"

namespace {
using namespace adakit::train;

MinimizeRunsOptions options(std::vector<std::string> functions) {
  MinimizeRunsOptions o;
  o.functions = std::move(functions);
  o.optimizers = {{"adagrad", {}}};
  o.base.steps = 20;
  return o;
}

TEST(MinimizeText, OneRun) {
  const auto r = minimize_runs(options({"rosenbrock"}));
  ASSERT_EQ(r.runs.size(), 1u);
  EXPECT_EQ(minimize_json(r), r.runs[0]);
  EXPECT_EQ(minimize_json(r)["function"], "rosenbrock");
  EXPECT_EQ(minimize_text(r, ""), "minimize rosenbrock (dim 2) with adagrad, 20 steps\n" + r.table);
}

TEST(MinimizeText, AllFunctions) {
  const auto r = minimize_runs(options({"all"}));
  ASSERT_EQ(r.runs.size(), test_functions().size());
  for (std::size_t i = 0; i < r.runs.size(); ++i) EXPECT_EQ(r.runs[i]["function"], test_functions()[i].name);
  EXPECT_EQ(minimize_json(r), nlohmann::json({{"runs", r.runs}}));
  EXPECT_EQ(minimize_text(r, "dir"), r.table + "wrote dir/summary.csv\n");
}

}  // namespace
