// train::minimize_runs: each run equals train::minimize with the same options, the table, JSON and
// files carry its numbers, and its usage errors.
#include "adakit/train/minimize_runs.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"

namespace {
namespace fs = std::filesystem;
using namespace adakit::train;
using adakit::test::TempDir;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MinimizeRunsOptions rosenbrock_adagrad() {
  MinimizeRunsOptions o;
  o.functions = {"rosenbrock"};
  o.optimizers = {{"adagrad", {{"lr", "0.1"}}}};
  o.base.steps = 100;
  return o;
}

TEST(MinimizeRuns, OneRunEqualsMinimize) {
  TempDir dir;
  auto o = rosenbrock_adagrad();
  o.trace = dir / "trace.csv";
  const auto report = minimize_runs(o);

  const auto f = make_test_function("rosenbrock");
  MinimizeOptions mo;
  mo.optimizer_options = {{"lr", "0.1"}};
  mo.steps = 100;
  TraceCsv trace(f.dim);
  const auto r = minimize(f, mo, [&](const TraceRow& row) { trace.add(row); });

  ASSERT_EQ(report.runs.size(), 1u);
  const auto& j = report.runs[0];
  EXPECT_EQ(j["loss"].get<double>(), r.loss);
  EXPECT_EQ(j["initial_loss"].get<double>(), r.initial_loss);
  EXPECT_NEAR(j["initial_loss"].get<double>(), 24.2, 1e-4);  // (x0, y0) = (-1.2f, 1): 100 (1 - 1.44)² + 2.2², in float
  EXPECT_EQ(j["steps"], 100);
  EXPECT_EQ(j["x"][0].get<double>(), static_cast<double>(r.x[0]));
  EXPECT_EQ(j["x"][1].get<double>(), static_cast<double>(r.x[1]));
  const double dist = std::hypot(static_cast<double>(r.x[0]) - 1.0, static_cast<double>(r.x[1]) - 1.0);
  EXPECT_DOUBLE_EQ(j["distance_to_minimum"].get<double>(), dist);
  EXPECT_EQ(j["curve"]["points"].size(), 101u);  // the start and 100 steps
  EXPECT_EQ(j["curve"]["series"]["loss"][0].get<double>(), r.initial_loss);
  EXPECT_EQ(j["diverged"], false);
  EXPECT_EQ(read_file(o.trace), trace.text());
  EXPECT_EQ(trace.text().substr(0, trace.text().find('\n')), "step,loss,x0,x1,g0,g1,lr0,lr1");
  EXPECT_EQ(std::count(trace.text().begin(), trace.text().end(), '\n'), 101);
  // The table: a header and one line.
  EXPECT_EQ(std::count(report.table.begin(), report.table.end(), '\n'), 2);
  EXPECT_NE(report.table.find("rosenbrock       adagrad            24.2"), std::string::npos) << report.table;
}

TEST(MinimizeRuns, SeveralRunsWriteTheirFiles) {
  TempDir dir;
  MinimizeRunsOptions o;
  o.functions = {"quadratic", "beale"};
  o.optimizers = {{"adagrad", {}}, {"sgd", {{"lr", "0.01"}}}};
  o.base.steps = 20;
  o.out = dir / "out";
  const auto report = minimize_runs(o);
  ASSERT_EQ(report.runs.size(), 4u);
  EXPECT_EQ(report.runs[1]["function"], "quadratic");
  EXPECT_EQ(report.runs[1]["optimizer"], "sgd");
  EXPECT_EQ(report.runs[2]["function"], "beale");
  for (const char* f : {"quadratic_adagrad.csv", "quadratic_sgd.csv", "beale_adagrad.csv", "beale_sgd.csv"})
    EXPECT_TRUE(fs::exists(o.out / f)) << f;
  EXPECT_EQ(nlohmann::json::parse(read_file(o.out / "summary.json"))["runs"], report.runs);
  const auto csv = read_file(o.out / "summary.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(csv.find("\nquadratic,sgd,\"lr=0.01\",20,"), std::string::npos) << csv;
}

TEST(MinimizeRuns, UsageErrors) {
  auto o = rosenbrock_adagrad();
  o.x0 = "1,abc";
  EXPECT_THROW(minimize_runs(o), adakit::UsageError);
  o = rosenbrock_adagrad();
  o.functions = {"quadratic", "beale"};
  o.trace = "t.csv";
  EXPECT_THROW(minimize_runs(o), adakit::UsageError);
  o.trace.clear();
  o.x0 = "1";
  EXPECT_THROW(minimize_runs(o), adakit::UsageError);
  o = rosenbrock_adagrad();
  o.functions = {"himmelblau"};
  EXPECT_THROW(minimize_runs(o), adakit::UsageError);
  EXPECT_EQ(parse_point("1,-2.5"), (std::vector<float>{1.0f, -2.5f}));
}

}  // namespace
