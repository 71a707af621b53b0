// report::history_curve: a run's epochs as the "curve" of its --json output.
#include <gtest/gtest.h>

#include "adakit/report/curve.hpp"

namespace {
using namespace adakit;

std::vector<run::EpochReport> two_epochs() {
  std::vector<run::EpochReport> h(2);
  for (int i = 0; i < 2; ++i) {
    h[static_cast<std::size_t>(i)].epoch = i + 1;
    h[static_cast<std::size_t>(i)].train = {.loss = 1.0 - 0.5 * i, .accuracy = 0.5 + 0.25 * i, .mse = 2.0 - i, .samples = 4};
  }
  h[0].validation.loss = 0.75;
  return h;
}

TEST(ReportHistoryCurve, ClassificationWithAndWithoutValidation) {
  EXPECT_EQ(report::history_curve(two_epochs(), false, false).dump(),
            R"({"points":[1.0,2.0],"series":{"train_accuracy":[0.5,0.75],"train_loss":[1.0,0.5]},"x":"epoch"})");
  const auto j = report::history_curve(two_epochs(), false, true);
  EXPECT_EQ(j["series"]["validation_loss"].dump(), "[0.75,null]");  // NaN without a validation pass
  EXPECT_EQ(j["series"]["validation_accuracy"].dump(), "[null,null]");
}

TEST(ReportHistoryCurve, RegressionNamesTheMse) {
  const auto j = report::history_curve(two_epochs(), true, false);
  EXPECT_EQ(j["series"]["train_mse"].dump(), "[2.0,1.0]");
  EXPECT_FALSE(j["series"].contains("train_accuracy"));
  EXPECT_EQ(report::history_curve({}, true, false)["points"].dump(), "[]");
}

}  // namespace
