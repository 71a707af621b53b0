// Synthetic sparse datasets for the linear tests, built with adakit::Rng (deterministic per seed).
// A few "informative" features carry a hidden linear rule; the rest of each row is noise drawn from
// the whole (hashed) feature space, so most features are rare and irrelevant.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "adakit/core/rng.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/model.hpp"

namespace adakit::linear_test {

// A model's weights (dim x outputs, by feature) then its bias, for bit-for-bit comparisons.
inline std::vector<float> weights_and_bias(const linear::LinearModel& m) {
  const auto w = m.weights();
  std::vector<float> out(w.begin(), w.end());
  out.insert(out.end(), m.bias().begin(), m.bias().end());
  return out;
}

struct Spec {
  std::int64_t dim = 100000;
  std::int64_t informative = 200;    // features 0, stride, 2 stride, ... carry the rule
  std::int64_t nnz_informative = 5;  // per row
  std::int64_t nnz_noise = 15;       // per row, uniform over [0, noise_range)
  std::int64_t noise_range = 0;      // 0: dim
  std::int64_t classes = 2;          // 0: regression
  double min_margin = 0.5;           // classification: rows closer to the boundary are redrawn
  double noise_value = 1.0;          // value of a noise entry
  std::uint64_t seed = 1;            // the hidden rule
};

// The hidden rule: weights [informative x max(classes, 1)] and the informative feature ids.
struct Rule {
  std::vector<std::int32_t> ids;
  std::vector<double> w;
  std::int64_t outputs;
  explicit Rule(const Spec& s) : outputs(std::max<std::int64_t>(s.classes == 2 ? 1 : s.classes, 1)) {
    Rng rng(s.seed);
    const std::int64_t stride = std::max<std::int64_t>(1, s.dim / s.informative);
    for (std::int64_t i = 0; i < s.informative; ++i) ids.push_back(static_cast<std::int32_t>(i * stride));
    w.resize(static_cast<std::size_t>(s.informative * outputs));
    for (auto& v : w) v = rng.normal();
  }
};

inline data::SparseDataset make_dataset(const Spec& s, std::int64_t rows, std::uint64_t row_seed) {
  const Rule rule(s);
  Rng rng(row_seed * 7919 + 13);
  data::SparseDataset d;
  d.name = "synthetic";
  d.features.cols = s.dim;
  if (s.classes > 0)
    for (std::int64_t c = 0; c < s.classes; ++c) d.class_names.push_back("c" + std::to_string(c));
  const std::int64_t range = s.noise_range > 0 ? s.noise_range : s.dim;
  std::vector<std::pair<std::int32_t, float>> entries;
  std::vector<double> z(static_cast<std::size_t>(rule.outputs));
  while (d.features.rows < rows) {
    entries.clear();
    std::fill(z.begin(), z.end(), 0.0);
    for (std::int64_t k = 0; k < s.nnz_informative; ++k) {
      const auto i = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(s.informative)));
      const float v = s.classes > 0 ? 1.0f : static_cast<float>(rng.normal());
      entries.push_back({rule.ids[static_cast<std::size_t>(i)], v});
    }
    for (std::int64_t k = 0; k < s.nnz_noise; ++k)
      entries.push_back({static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(range))),
                         static_cast<float>(s.noise_value)});
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  entries.end());
    // Scores from the informative entries only (noise may collide with an informative id: counted).
    for (const auto& [id, v] : entries) {
      const auto it = std::lower_bound(rule.ids.begin(), rule.ids.end(), id);
      if (it == rule.ids.end() || *it != id) continue;
      const auto i = static_cast<std::size_t>(it - rule.ids.begin());
      for (std::int64_t c = 0; c < rule.outputs; ++c)
        z[static_cast<std::size_t>(c)] += v * rule.w[i * static_cast<std::size_t>(rule.outputs) + static_cast<std::size_t>(c)];
    }
    if (s.classes == 2) {
      if (std::abs(z[0]) < s.min_margin) continue;
      d.labels.push_back(z[0] > 0 ? 1 : 0);
    } else if (s.classes > 2) {
      auto sorted = z;
      std::sort(sorted.rbegin(), sorted.rend());
      if (sorted[0] - sorted[1] < s.min_margin) continue;
      d.labels.push_back(static_cast<std::int32_t>(std::max_element(z.begin(), z.end()) - z.begin()));
    } else {
      d.targets.push_back(static_cast<float>(z[0] + 0.5));  // bias 0.5
    }
    for (const auto& [id, v] : entries) {
      d.features.indices.push_back(id);
      d.features.values.push_back(v);
    }
    d.features.indptr.push_back(static_cast<std::int64_t>(d.features.indices.size()));
    ++d.features.rows;
  }
  return d;
}

// Features that occur in d, ascending.
inline std::vector<std::int64_t> present_features(const data::SparseDataset& d) {
  std::vector<std::int64_t> f(d.features.indices.begin(), d.features.indices.end());
  std::sort(f.begin(), f.end());
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return f;
}

// Golden-section search for the minimum of a unimodal f on [lo, hi], in double.
template <class F>
double golden_min(F f, double lo, double hi) {
  const double r = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = lo, b = hi, c = b - r * (b - a), e = a + r * (b - a);
  double fc = f(c), fe = f(e);
  for (int i = 0; i < 400 && b - a > 1e-15 * (1.0 + std::abs(a) + std::abs(b)); ++i) {
    if (fc < fe) {
      b = e;
      e = c;
      fe = fc;
      c = b - r * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = e;
      fc = fe;
      e = a + r * (b - a);
      fe = f(e);
    }
  }
  return 0.5 * (a + b);
}

}  // namespace adakit::linear_test
