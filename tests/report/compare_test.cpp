// report::Comparison and the curve JSON: mean ± sample std over seeds, the results JSON, summary.csv
// and the table, from hand-made run objects.
#include "adakit/report/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "adakit/report/curve.hpp"

namespace {
using namespace adakit::report;

TEST(ReportCurve, ThinsAndWritesNull) {
  const std::vector<double> x{0, 1, 2, 3, 4};
  const auto j = curve_json("step", x, {{"loss", {4, NAN, 2, 1}}}, 3);
  EXPECT_EQ(j["x"], "step");
  EXPECT_EQ(j["points"], nlohmann::json::parse("[0.0, 2.0, 4.0]"));
  EXPECT_EQ(j["series"]["loss"], nlohmann::json::parse("[4.0, 2.0, null]"));  // index 4 is past the series
  EXPECT_EQ(curve_json("step", x, {{"loss", {4, NAN}}})["series"]["loss"][1], nullptr);
  EXPECT_EQ(format_number(0.1 + 0.2), "0.3");
  EXPECT_EQ(format_number(1234567.0), "1.23457e+06");
  EXPECT_EQ(format_number(-INFINITY), "-inf");
  EXPECT_EQ(number_or_null(NAN), nullptr);
}

TEST(ReportCompare, StatOfFiniteValues) {
  const auto s = stat_of({1.0, 2.0, 4.0, NAN});
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 7.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(((1 - 7.0 / 3) * (1 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3) + (4 - 7.0 / 3) * (4 - 7.0 / 3)) / 2));
  EXPECT_EQ(s.values.size(), 4u);
  EXPECT_EQ(stat_of({5.0}).std, 0.0);
  EXPECT_EQ(stat_of({0.1, 0.1, 0.1}).std, 0.0);  // equal values: exactly 0, not rounding noise
  EXPECT_TRUE(std::isnan(stat_of({NAN}).mean));
  EXPECT_EQ(stat_of({NAN}).n, 0);
}

nlohmann::json minimize_run(double loss, std::vector<double> curve) {
  nlohmann::json j = {{"loss", loss}, {"distance_to_minimum", loss * 2}, {"diverged", !std::isfinite(loss)}};
  j["curve"] = curve_json("step", {0, 1, 2}, {{"loss", curve}});
  return j;
}

TEST(ReportCompare, ResultsCsvAndTable) {
  Comparison cmp("minimize", 2, 7);
  cmp.add("adagrad", 7, minimize_run(1.0, {4, 2, 1}));
  cmp.add("adagrad", 8, minimize_run(3.0, {4, 3, 3}));
  cmp.add("sgd:lr=0.1", 7, minimize_run(NAN, {4, NAN, NAN}));
  cmp.add("sgd:lr=0.1", 8, minimize_run(0.5, {4, 1, 0.5}));

  const auto r = cmp.results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["optimizer"], "adagrad");
  EXPECT_EQ(r[0]["metrics"]["loss"]["mean"], 2.0);
  EXPECT_DOUBLE_EQ(r[0]["metrics"]["loss"]["std"].get<double>(), std::sqrt(2.0));
  EXPECT_EQ(r[0]["metrics"]["loss"]["n"], 2);
  EXPECT_EQ(r[0]["runs"][1]["seed"], 8);
  EXPECT_EQ(r[0]["diverged_runs"], 0);
  EXPECT_EQ(r[1]["diverged_runs"], 1);
  EXPECT_EQ(r[1]["metrics"]["loss"]["n"], 1);
  EXPECT_EQ(r[1]["metrics"]["loss"]["values"], nlohmann::json::parse("[null, 0.5]"));

  EXPECT_EQ(cmp.summary_csv(),
            "optimizer,metric,mean,std,n\n"
            "\"adagrad\",distance_to_minimum,4.0,2.8284271247461903,2\n"
            "\"adagrad\",loss,2.0,1.4142135623730951,2\n"
            "\"sgd:lr=0.1\",distance_to_minimum,1.0,0.0,1\n"
            "\"sgd:lr=0.1\",loss,0.5,0.0,1\n");
  // %-26s pads bytes, and "±" is two bytes in UTF-8: a cell with it shows one column short (as before).
  EXPECT_EQ(cmp.table(),
            "optimizer   loss                      distance_to_minimum       \n"
            "adagrad     2 ± 1.41421              4 ± 2.82843              \n"
            "sgd:lr=0.1  0.5 ± 0 (n=1)            1 ± 0 (n=1)              \n"
            "sgd:lr=0.1: 1 of 2 runs diverged (a loss or value not finite)\n"
            "mean ± std (sample, n-1) over 2 seeds (7..8)\n");
}

}  // namespace
