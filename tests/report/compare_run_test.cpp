// report::run_comparison: the task checks, and the runs started as child processes (here a shell script
// standing in for the adakit binary, printing a minimize run's JSON made from its flags).
#include <gtest/gtest.h>

#include <fstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/report/compare.hpp"

namespace {
namespace fs = std::filesystem;
using namespace adakit::report;
using adakit::test::TempDir;

CompareOptions options(std::vector<std::string> task) {
  CompareOptions o;
  o.program = "/bin/true";
  o.specs = {"adagrad"};
  o.task = std::move(task);
  return o;
}

TEST(ReportCompareRun, ChecksTheTask) {
  EXPECT_THROW(check_compare_task(options({})), adakit::UsageError);
  EXPECT_THROW(check_compare_task(options({"predict"})), adakit::UsageError);
  EXPECT_THROW(check_compare_task(options({"minimize", "--seed", "3"})), adakit::UsageError);
  EXPECT_THROW(check_compare_task(options({"train", "--resume=ck"})), adakit::UsageError);
  EXPECT_THROW(check_compare_task(options({"minimize", "--function", "all"})), adakit::UsageError);
  auto o = options({"minimize"});
  o.seeds = 0;
  EXPECT_THROW(check_compare_task(o), adakit::UsageError);
  EXPECT_NO_THROW(check_compare_task(options({"rl", "cartpole", "--episodes", "3"})));
  o = options({"minimize"});
  o.specs = {"adagrad", "adagrad"};
  EXPECT_THROW(run_comparison(o), adakit::UsageError);
  o.specs = {};
  EXPECT_THROW(run_comparison(o), adakit::UsageError);
}

// A stand-in for adakit: records its arguments, prints {"loss": seed + 1, ...} for --optimizer adagrad and
// {"loss": 10 * (seed + 1)} otherwise; --steps fail exits 2.
fs::path fake_program(const TempDir& dir) {
  const auto path = dir / "fake.sh";
  std::ofstream(path) << "#!/bin/sh\n"
                         "echo \"$@\" >> " << (dir / "args.txt").string() << "\n"
                         "while [ $# -gt 0 ]; do case $1 in --optimizer) opt=$2;; --seed) seed=$2;; "
                         "fail) echo 'bad flag' >&2; exit 2;; esac; shift; done\n"
                         "if [ \"$opt\" = adagrad ]; then loss=$((seed + 1)); else loss=$((10 * (seed + 1))); fi\n"
                         "echo \"{\\\"loss\\\": $loss, \\\"distance_to_minimum\\\": 0}\"\n";
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

TEST(ReportCompareRun, RunsEverySpecAndSeed) {
  TempDir dir;
  auto o = options({"minimize", "--steps", "5"});
  o.program = fake_program(dir);
  o.specs = {"adagrad", "sgd:lr=0.1"};
  o.seeds = 2;
  o.seed = 4;
  o.out = dir / "out";
  std::vector<std::string> messages;
  const auto r = run_comparison(o, [&](const std::string& m) { messages.push_back(m); });
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(messages.begin(), messages.begin() + 4),
            (std::vector<std::string>{"adagrad seed 4 ...", "adagrad seed 5 ...", "sgd:lr=0.1 seed 4 ...",
                                      "sgd:lr=0.1 seed 5 ..."}));
  std::ifstream args(dir / "args.txt");
  std::string first;
  std::getline(args, first);
  EXPECT_EQ(first, "--threads " + std::to_string(adakit::num_threads()) +
                       " minimize --steps 5 --optimizer adagrad --seed 4 --json");
  EXPECT_EQ(r.summary["task"], nlohmann::json({"minimize", "--steps", "5"}));
  EXPECT_EQ(r.summary["first_seed"], 4);
  const auto& results = r.summary["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["optimizer"], "adagrad");
  EXPECT_DOUBLE_EQ(results[0]["metrics"]["loss"]["mean"].get<double>(), 5.5);  // seeds 4, 5: 5 and 6
  EXPECT_DOUBLE_EQ(results[1]["metrics"]["loss"]["mean"].get<double>(), 55.0);
  EXPECT_NE(r.table.find("adagrad"), std::string::npos);
  EXPECT_TRUE(r.summary.contains("plots"));
  EXPECT_TRUE(fs::exists(dir / "out" / "summary.csv"));
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "out" / "summary.json"))["results"], results);

  o.task = {"minimize", "fail"};
  o.out.clear();
  try {
    run_comparison(o);
    FAIL() << "a run that exits 2 is a usage error";
  } catch (const adakit::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("the run 'adagrad' seed 4 failed: bad flag"), std::string::npos) << e.what();
  }
}

}  // namespace
