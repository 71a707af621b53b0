// The two forms of the logistic function in core/logistic.hpp.
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/core/logistic.hpp"

namespace {

TEST(CoreLogistic, DirectFormIsTheTextbookExpressionAndCloseToTheStableOne) {
  for (double z : {-30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 40.0}) {
    EXPECT_EQ(adakit::sigmoid_direct(z), 1.0 / (1.0 + std::exp(-z)));
    EXPECT_NEAR(adakit::sigmoid_direct(z), adakit::sigmoid(z), 1e-16 + 1e-15 * adakit::sigmoid(z));
    if (z >= 0) {
      EXPECT_EQ(adakit::sigmoid_direct(z), adakit::sigmoid(z));  // the same expression there
    }
  }
  EXPECT_EQ(adakit::sigmoid_direct(-1000.0), 0.0);  // e^{1000} = inf: no harm
  EXPECT_EQ(adakit::sigmoid_direct(0.0f), 0.5f);
  // They differ in the last bit for some z < 0 (why train::predictions keeps the direct form).
  int differ = 0;
  for (int i = 1; i <= 1000; ++i) differ += adakit::sigmoid_direct(-i / 97.0) != adakit::sigmoid(-i / 97.0);
  EXPECT_GT(differ, 0);
}

}  // namespace
