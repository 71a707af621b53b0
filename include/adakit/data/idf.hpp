// Inverse document frequency (scikit-learn's TfidfVectorizer), written once: a term found in df of n
// documents weighs
//   smooth_idf:  idf = ln((1 + n) / (1 + df)) + 1        otherwise:  idf = ln(n / df) + 1
// TextVectorizer::fit computes its idf table with idf_from_df; adakit export's compact files store the
// integer df instead when idf_from_df gives the table back bit for bit (df_from_idf finds it), since a
// handful of distinct small integers deflates to half of the float64 values.
#pragma once
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <optional>

namespace adakit::data {

inline double idf_from_df(double df, double n, bool smooth) {
  return smooth ? std::log((1.0 + n) / (1.0 + df)) + 1.0 : std::log(n / df) + 1.0;
}

// The document count df in [1, n] with idf_from_df(df, n, smooth) == idf exactly, or none.
inline std::optional<std::int64_t> df_from_idf(double idf, std::int64_t n, bool smooth) {
  if (!std::isfinite(idf) || n < 1) return std::nullopt;
  const auto nd = static_cast<double>(n);
  const double guess = smooth ? (1.0 + nd) / std::exp(idf - 1.0) - 1.0 : nd / std::exp(idf - 1.0);
  if (!(guess > -1.0 && guess < nd + 2.0)) return std::nullopt;
  const auto df = static_cast<std::int64_t>(std::llround(guess));
  for (std::int64_t d = std::max<std::int64_t>(1, df - 1); d <= std::min(n, df + 1); ++d)
    if (idf_from_df(static_cast<double>(d), nd, smooth) == idf) return d;
  return std::nullopt;
}

}  // namespace adakit::data
