#include "adakit/core/format.hpp"

#include <gtest/gtest.h>

#include <cmath>

TEST(FormatPrintf, FormatsAsPrintf) {
  EXPECT_EQ(adakit::format_printf("%lld tokens, %.2fs; %s", 360LL, 1.234, "done"), "360 tokens, 1.23s; done");
  EXPECT_EQ(adakit::format_printf("  %-6s %.4f", "king", 0.5), "  king   0.5000");
  EXPECT_EQ(adakit::format_printf("%s", ""), "");
  EXPECT_EQ(adakit::format_printf("%.6f", std::nan("")), "nan");
}

TEST(FormatPrintf, LongerThanAnyFixedBuffer) {
  const std::string word(5000, 'x');
  const auto s = adakit::format_printf("[%s]", word.c_str());
  ASSERT_EQ(s.size(), 5002u);
  EXPECT_EQ(s.front(), '[');
  EXPECT_EQ(s.substr(1, 5000), word);
  EXPECT_EQ(s.back(), ']');
}
