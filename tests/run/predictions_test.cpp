// run::prediction_rows: the rows `adakit predict --json` prints.
#include <gtest/gtest.h>

#include "adakit/run/predictions.hpp"

namespace {
using namespace adakit;

TEST(RunPredictions, ClassificationRowsCarryLabelsAndProbabilities) {
  run::Predictions p;
  p.rows = 2;
  p.classes = {1, 2};
  p.class_names = {"a", "b"};                      // class 2 has no name: no "label"
  p.probabilities = {0.25, 0.75, 0.1f, 0.9f};      // floats keep their float digits
  EXPECT_EQ(run::prediction_rows(p).dump(),
            R"([{"class":1,"index":0,"label":"b","probabilities":[0.25,0.75]},)"
            R"({"class":2,"index":1,"probabilities":[0.10000000149011612,0.8999999761581421]}])");
  p.probabilities.clear();
  EXPECT_EQ(run::prediction_rows(p)[0].dump(), R"({"class":1,"index":0,"label":"b"})");
}

TEST(RunPredictions, RegressionRowsAreArraysOrNumbersByOutputShape) {
  run::Predictions p;
  p.rows = 2;
  p.outputs = Tensor({2, 2}, std::vector<float>{1.5f, -2.0f, 0.5f, 3.0f});
  EXPECT_EQ(run::prediction_rows(p).dump(), R"([{"index":0,"prediction":[1.5,-2.0]},{"index":1,"prediction":[0.5,3.0]}])");
  p.outputs = Tensor({2}, std::vector<float>{1.5f, 0.25f});
  EXPECT_EQ(run::prediction_rows(p).dump(), R"([{"index":0,"prediction":1.5},{"index":1,"prediction":0.25}])");
  p.rows = 0;
  EXPECT_EQ(run::prediction_rows(p).dump(), "[]");
}

}  // namespace
