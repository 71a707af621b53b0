// Core building blocks: Tensor, Parameter, coalesce_rows and sort_row_positions, Rng, parallel_for, Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"

namespace {

using adakit::Error;
using adakit::Parameter;
using adakit::Rng;
using adakit::Shape;
using adakit::Tensor;
using adakit::UsageError;

// Restores the default thread count however a test ends.
struct ThreadGuard {
  ~ThreadGuard() { adakit::set_num_threads(0); }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------- Tensor

TEST(Tensor, ShapeNumelAndFill) {
  Tensor t({2, 3, 4}, 1.5f);
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.rank(), 3u);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(2), 4);
  EXPECT_THROW((void)t.dim(3), std::out_of_range);
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(t.span().size(), 24u);
  for (std::int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t[i], 1.5f);
  t.fill(-2.0f);
  for (float v : t.span()) EXPECT_EQ(v, -2.0f);

  Tensor scalar(Shape{}, 7.0f);  // rank 0: one element
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar[0], 7.0f);

  Tensor none({3, 0});
  EXPECT_EQ(none.numel(), 0);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.span().empty());

  EXPECT_EQ(adakit::shape_numel({5, 6}), 30);
  EXPECT_EQ(adakit::shape_numel({}), 1);
  EXPECT_EQ(adakit::shape_to_string({2, 3}), "[2, 3]");
  EXPECT_EQ(adakit::shape_to_string({}), "[]");
  EXPECT_THROW((void)adakit::shape_numel({2, -1}), UsageError);
  EXPECT_THROW(Tensor({-3}), UsageError);
}

TEST(Tensor, FromValuesAndSizeMismatch) {
  Tensor t = Tensor::from({2, 2}, {1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_EQ(t[0], 1.0f);
  EXPECT_EQ(t[3], 4.0f);
  const std::vector<float> three{1.0f, 2.0f, 3.0f};
  EXPECT_THROW(Tensor({2, 2}, std::span<const float>(three)), UsageError);
  try {
    Tensor({2, 2}, std::span<const float>(three));
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "[2, 2]")) << e.what();
    EXPECT_TRUE(contains(e.what(), "4")) << e.what();
  }
}

TEST(Tensor, DataIsAlignedTo64Bytes) {
  for (std::int64_t n : {1, 3, 15, 16, 17, 63, 64, 65, 1000, 4097}) {
    Tensor t({n});
    ASSERT_NE(t.data(), nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64u, 0u) << "n=" << n;
    Tensor copy(t);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(copy.data()) % 64u, 0u) << "copy, n=" << n;
  }
  EXPECT_EQ(Tensor::kAlignment, 64u);
}

TEST(Tensor, CopyIsDeepMoveIsNot) {
  Tensor a = Tensor::from({3}, {1.0f, 2.0f, 3.0f});
  Tensor b(a);
  EXPECT_NE(a.data(), b.data());
  b[0] = 10.0f;
  EXPECT_EQ(a[0], 1.0f);
  a[1] = 20.0f;
  EXPECT_EQ(b[1], 2.0f);

  Tensor c({7}, 0.0f);
  c = a;  // copy assignment: new shape, new storage
  EXPECT_EQ(c.shape(), (Shape{3}));
  EXPECT_NE(c.data(), a.data());
  c[2] = -1.0f;
  EXPECT_EQ(a[2], 3.0f);
  const Tensor& alias = c;
  c = alias;  // self-assignment keeps the values
  EXPECT_EQ(c[2], -1.0f);
  EXPECT_EQ(c.numel(), 3);

  const float* storage = a.data();
  Tensor d(std::move(a));
  EXPECT_EQ(d.data(), storage);
  EXPECT_EQ(d[1], 20.0f);
}

TEST(Tensor, ReshapeKeepsDataOrThrows) {
  Tensor t = Tensor::from({2, 3}, {0, 1, 2, 3, 4, 5});
  const float* storage = t.data();
  t.reshape({3, 2});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.data(), storage);
  EXPECT_EQ(t[5], 5.0f);
  t.reshape({6});
  EXPECT_EQ(t.rank(), 1u);
  EXPECT_THROW(t.reshape({4, 2}), UsageError);
  EXPECT_THROW(t.reshape({-2, -3}), UsageError);
  try {
    t.reshape({5});
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "[6]")) << e.what();
    EXPECT_TRUE(contains(e.what(), "[5]")) << e.what();
  }
  EXPECT_EQ(t.shape(), (Shape{6}));  // a failed reshape changes nothing
}

TEST(Tensor, BorrowViewsForeignMemoryWithoutCopyOrFree) {
  std::vector<float> memory{1, 2, 3, 4, 5, 6};
  {
    Tensor t = Tensor::borrow({2, 3}, memory.data());
    EXPECT_FALSE(t.owns_data());
    EXPECT_EQ(t.data(), memory.data());
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t[4], 5.0f);
    t.span()[0] = -1.0f;  // writes land in the owner's memory
    t.fill(7.0f);
    t.reshape({6});
    EXPECT_EQ(t.data(), memory.data());

    Tensor copy(t);  // a copy owns its storage
    EXPECT_TRUE(copy.owns_data());
    EXPECT_NE(copy.data(), memory.data());
    copy[0] = 0.0f;
    EXPECT_EQ(memory[0], 7.0f);

    Tensor moved(std::move(t));  // a move keeps the borrow
    EXPECT_FALSE(moved.owns_data());
    EXPECT_EQ(moved.data(), memory.data());
    moved = Tensor({2}, 3.0f);  // assigning over a borrow releases it without freeing
    EXPECT_TRUE(moved.owns_data());
  }
  for (float v : memory) EXPECT_EQ(v, 7.0f);  // still ours, and written through the view
  EXPECT_TRUE(Tensor({2}).owns_data());
  EXPECT_TRUE(Tensor::borrow({0}, nullptr).empty());
  EXPECT_THROW(Tensor::borrow({2}, nullptr), UsageError);
  EXPECT_THROW(Tensor::borrow({-1}, memory.data()), UsageError);
}

// ---------------------------------------------------------------- Parameter

TEST(Parameter, IdsAreUniqueAndIncreasing) {
  std::vector<Parameter> ps;
  ps.reserve(50);
  for (int i = 0; i < 50; ++i) ps.emplace_back("p" + std::to_string(i), Tensor({2}));
  std::set<std::uint64_t> ids;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    ids.insert(ps[i].id());
    if (i > 0) {
      EXPECT_GT(ps[i].id(), ps[i - 1].id());
    }
  }
  EXPECT_EQ(ids.size(), ps.size());
  // Moving keeps the id (an id names one parameter, wherever it lives).
  const std::uint64_t id = ps[3].id();
  Parameter moved(std::move(ps[3]));
  EXPECT_EQ(moved.id(), id);
  EXPECT_EQ(moved.name(), "p3");
}

TEST(Parameter, GradientsAndRowDim) {
  Parameter p("emb", Tensor({4, 3}, 1.0f));
  EXPECT_EQ(p.name(), "emb");
  EXPECT_EQ(p.shape(), (Shape{4, 3}));
  EXPECT_EQ(p.numel(), 12);
  EXPECT_EQ(p.row_dim(), 3);
  EXPECT_EQ(p.grad().shape(), p.shape());
  for (float g : p.grad().span()) EXPECT_EQ(g, 0.0f);
  EXPECT_TRUE(p.requires_grad());
  p.set_requires_grad(false);
  EXPECT_FALSE(p.requires_grad());
  p.set_name("emb2");
  EXPECT_EQ(p.name(), "emb2");

  Parameter v("v", Tensor({5}));
  EXPECT_EQ(v.row_dim(), 5);
  Parameter s("s", Tensor(Shape{}));
  EXPECT_EQ(s.row_dim(), 1);
}

TEST(Parameter, ZeroGradClearsDenseAndSparse) {
  Parameter p("t", Tensor({3, 2}));
  p.grad().fill(4.0f);
  p.sparse_grad() = adakit::RowSparseGrad{{1, 2}, {1, 2, 3, 4}};
  EXPECT_TRUE(p.has_sparse_grad());
  p.zero_grad();
  EXPECT_FALSE(p.has_sparse_grad());
  EXPECT_FALSE(p.sparse_grad().has_value());
  for (float g : p.grad().span()) EXPECT_EQ(g, 0.0f);
  EXPECT_EQ(p.value()[0], 0.0f);  // the value is untouched
}

TEST(Parameter, BorrowedValueAndGradient) {
  std::vector<float> value{1, 2, 3, 4}, grad{0.5f, 0.5f, 0.5f, 0.5f}, other{9, 9, 9, 9};
  Parameter p("w", Tensor::borrow({2, 2}, value.data()), Tensor::borrow({2, 2}, grad.data()));
  EXPECT_EQ(p.value().data(), value.data());
  EXPECT_EQ(p.grad().data(), grad.data());
  EXPECT_EQ(p.row_dim(), 2);
  p.value().span()[3] = -4.0f;
  EXPECT_EQ(value[3], -4.0f);
  p.grad() = Tensor::borrow({2, 2}, other.data());  // rebinding the gradient copies nothing
  EXPECT_EQ(p.grad()[1], 9.0f);
  p.zero_grad();  // zeroes the memory the gradient views
  EXPECT_EQ(other[1], 0.0f);
  EXPECT_EQ(grad[1], 0.5f);

  Parameter no_grad("e", Tensor::borrow({4}, value.data()), Tensor());  // no dense gradient yet
  EXPECT_TRUE(no_grad.grad().empty());
  no_grad.zero_grad();
  EXPECT_THROW(Parameter("bad", Tensor({2, 2}), Tensor({4})), UsageError);
}

// ---------------------------------------------------------------- coalesce_rows

TEST(CoalesceRows, SumsDuplicatesIntoSortedUniqueRows) {
  const std::vector<std::int64_t> idx{3, 1, 3, 0, 1, 3};
  const std::vector<float> vals{
      1, 2,      // 3
      10, 20,    // 1
      100, 200,  // 3
      -1, -2,    // 0
      0.5f, 0.25f,  // 1
      1000, 2000,   // 3
  };
  std::vector<std::int64_t> uniq{99};  // outputs are overwritten, not appended to
  std::vector<float> sum{99.0f};
  adakit::coalesce_rows(idx, vals, 2, 5, uniq, sum);
  EXPECT_EQ(uniq, (std::vector<std::int64_t>{0, 1, 3}));
  EXPECT_EQ(sum, (std::vector<float>{-1, -2, 10.5f, 20.25f, 1101, 2202}));

  // Already unique and sorted: unchanged.
  adakit::coalesce_rows(std::vector<std::int64_t>{0, 2}, std::vector<float>{1, 2, 3, 4}, 2, 3, uniq, sum);
  EXPECT_EQ(uniq, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(sum, (std::vector<float>{1, 2, 3, 4}));

  // Nothing in, nothing out.
  adakit::coalesce_rows({}, {}, 4, 3, uniq, sum);
  EXPECT_TRUE(uniq.empty());
  EXPECT_TRUE(sum.empty());
}

TEST(CoalesceRows, RejectsBadInput) {
  std::vector<std::int64_t> uniq;
  std::vector<float> sum;
  const std::vector<float> two_rows{1, 2, 3, 4};
  try {
    adakit::coalesce_rows(std::vector<std::int64_t>{0, 5}, two_rows, 2, 5, uniq, sum);
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "index 5")) << e.what();
  }
  try {
    adakit::coalesce_rows(std::vector<std::int64_t>{-1, 0}, two_rows, 2, 5, uniq, sum);
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "index -1")) << e.what();
  }
  // 2 indices of dim 3 need 6 values.
  EXPECT_THROW(adakit::coalesce_rows(std::vector<std::int64_t>{0, 1}, two_rows, 3, 5, uniq, sum), UsageError);
  EXPECT_THROW(adakit::coalesce_rows(std::vector<std::int64_t>{0}, two_rows, 0, 5, uniq, sum), UsageError);
}

// The order sort_row_positions must give: positions by row, equal rows by position.
std::vector<std::int64_t> stable_row_order(const std::vector<std::int64_t>& idx) {
  std::vector<std::int64_t> order(idx.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return idx[static_cast<std::size_t>(a)] < idx[static_cast<std::size_t>(b)];
  });
  return order;
}

TEST(SortRowPositions, StableOrderOnEveryPath) {
  Rng rng(5);
  // {rows, n}: one row (no sort); small n (comparison sort of keys); radix with 1, 2 and 4 passes;
  // rows and positions too wide for one 64-bit key (the comparison-sort fallback).
  const std::vector<std::pair<std::int64_t, std::int64_t>> cases{
      {1, 300}, {7, 40}, {50, 3000}, {1000000, 5000}, {std::int64_t{1} << 40, 3000},
      {std::numeric_limits<std::int64_t>::max(), 3000}};
  std::vector<std::int64_t> order{42};  // overwritten
  for (const auto& [rows, n] : cases) {
    SCOPED_TRACE("rows " + std::to_string(rows) + " n " + std::to_string(n));
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    // Many duplicates: draw from a pool of n/8 distinct rows spread over the whole range.
    std::vector<std::int64_t> pool(static_cast<std::size_t>(std::max<std::int64_t>(1, n / 8)));
    for (auto& r : pool) r = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(rows)));
    pool.back() = rows - 1;  // the top row, all bits set in a packed key
    for (auto& r : idx) r = pool[rng.below(pool.size())];
    adakit::sort_row_positions(idx, rows, order);
    EXPECT_EQ(order, stable_row_order(idx));
    // Already non-decreasing (with its duplicates): the early exit, the identity order.
    std::sort(idx.begin(), idx.end());
    adakit::sort_row_positions(idx, rows, order);
    EXPECT_EQ(order, stable_row_order(idx));
  }
  adakit::sort_row_positions({}, 10, order);
  EXPECT_TRUE(order.empty());
  adakit::sort_row_positions(std::vector<std::int64_t>{0}, 1, order);
  EXPECT_EQ(order, (std::vector<std::int64_t>{0}));
}

TEST(SortRowPositions, NamesTheFirstIndexOutOfRange) {
  std::vector<std::int64_t> order;
  // Small and radix-sized batches, and the wide-key fallback; the bad index sits late in the batch.
  for (const std::int64_t rows : {std::int64_t{10}, std::numeric_limits<std::int64_t>::max()}) {
    for (const std::size_t n : {std::size_t{5}, std::size_t{2000}}) {
      for (const std::int64_t bad : {std::int64_t{-1}, rows, std::numeric_limits<std::int64_t>::min()}) {
        if (bad == rows && rows == std::numeric_limits<std::int64_t>::max()) continue;  // in range is impossible
        std::vector<std::int64_t> idx(n, 3);
        idx[n - 2] = bad;
        idx[n - 1] = -7;
        try {
          adakit::sort_row_positions(idx, rows, order);
          ADD_FAILURE() << "no exception for index " << bad;
        } catch (const UsageError& e) {
          EXPECT_TRUE(contains(e.what(), "index " + std::to_string(bad) + " (position " + std::to_string(n - 2) + ")"))
              << e.what();
        }
      }
    }
  }
  EXPECT_THROW(adakit::sort_row_positions(std::vector<std::int64_t>{0}, 0, order), UsageError);  // empty table
  // Non-decreasing up to an index past the end: the early exit does not take it.
  std::vector<std::int64_t> ascending(300);
  for (std::size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<std::int64_t>(i / 2);
  try {
    adakit::sort_row_positions(ascending, 149, order);
    ADD_FAILURE() << "no exception for index 149";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "index 149 (position 298)")) << e.what();
  }
}

TEST(CoalesceRows, MatchesAnOrderedSumOnRandomBatches) {
  Rng rng(9);
  for (const std::int64_t n : {1, 37, 4000}) {
    const std::int64_t rows = 64, dim = 5;
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    for (auto& r : idx) r = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(rows)));
    std::vector<float> vals(static_cast<std::size_t>(n * dim));
    rng.fill_normal(vals, 0.0, 1.0);
    std::vector<std::int64_t> uniq;
    std::vector<float> sum;
    adakit::coalesce_rows(idx, vals, dim, rows, uniq, sum);
    // Reference: each row's values added in the order they appear (the first one copied), and the same
    // sums in double precision.
    std::vector<std::int64_t> want_uniq;
    std::vector<float> want(static_cast<std::size_t>(rows * dim));
    std::vector<double> want_d(want.size(), 0.0);
    std::vector<bool> seen(static_cast<std::size_t>(rows), false);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto r = static_cast<std::size_t>(idx[static_cast<std::size_t>(i)]);
      for (std::int64_t j = 0; j < dim; ++j) {
        const float v = vals[static_cast<std::size_t>(i * dim + j)];
        auto& w = want[r * static_cast<std::size_t>(dim) + static_cast<std::size_t>(j)];
        w = seen[r] ? w + v : v;
        want_d[r * static_cast<std::size_t>(dim) + static_cast<std::size_t>(j)] += v;
      }
      seen[r] = true;
    }
    for (std::int64_t r = 0; r < rows; ++r)
      if (seen[static_cast<std::size_t>(r)]) want_uniq.push_back(r);
    ASSERT_EQ(uniq, want_uniq);
    ASSERT_EQ(sum.size(), uniq.size() * static_cast<std::size_t>(dim));
    for (std::size_t u = 0; u < uniq.size(); ++u) {
      for (std::int64_t j = 0; j < dim; ++j) {
        const auto at = static_cast<std::size_t>(uniq[u] * dim + j);
        const float got = sum[u * static_cast<std::size_t>(dim) + static_cast<std::size_t>(j)];
        EXPECT_EQ(std::memcmp(&got, &want[at], sizeof(float)), 0) << "row " << uniq[u] << " col " << j;
        EXPECT_NEAR(got, want_d[at], 1e-5 * (1.0 + std::abs(want_d[at])));
      }
    }
  }
}

// ---------------------------------------------------------------- Rng

TEST(Rng, SameSeedSameStreamDifferentSeedsDiffer) {
  Rng a(42), b(42), c(43);
  int same_as_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    same_as_c += x == c.next_u64();
  }
  EXPECT_EQ(same_as_c, 0);
  // seed() restarts the stream.
  Rng d(7);
  std::vector<double> first;
  for (int i = 0; i < 10; ++i) first.push_back(d.normal());
  d.seed(7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.normal(), first[static_cast<std::size_t>(i)]);
  // Default seed is a fixed one.
  Rng e, f;
  EXPECT_EQ(e.next_u64(), f.next_u64());
}

TEST(Rng, UniformMoments) {
  Rng r(123);
  const int n = 100000;
  double sum = 0.0, lo = 1.0, hi = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_LT(lo, 1e-3);
  EXPECT_GT(hi, 1.0 - 1e-3);
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform(-3.0, 5.0);
    ASSERT_GE(u, -3.0);
    ASSERT_LT(u, 5.0);
  }
  int heads = 0;
  for (int i = 0; i < n; ++i) heads += r.bernoulli(0.3);
  EXPECT_NEAR(heads / static_cast<double>(n), 0.3, 0.01);
}

TEST(Rng, NormalMoments) {
  Rng r(2024);
  const int n = 100000;
  double sum = 0.0, sq = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sq += x * x;
  }
  const double mean = sum / n;
  const double var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.02);

  double s2 = 0.0;
  for (int i = 0; i < n; ++i) s2 += r.normal(3.0, 2.0);
  EXPECT_NEAR(s2 / n, 3.0, 0.04);

  std::vector<float> buf(20000);
  r.fill_normal(buf, -1.0, 0.5);
  double fs = 0.0;
  for (float v : buf) fs += v;
  EXPECT_NEAR(fs / static_cast<double>(buf.size()), -1.0, 0.02);
  r.fill_uniform(buf, 2.0, 3.0);
  for (float v : buf) {
    ASSERT_GE(v, 2.0f);
    ASSERT_LE(v, 3.0f);  // rounding to float may reach the upper bound
  }
}

TEST(Rng, BelowStaysInRangeAndHitsEveryValue) {
  Rng r(9);
  for (std::uint64_t n : {1ULL, 2ULL, 7ULL, 1000ULL, (1ULL << 63) + 5ULL}) {
    for (int i = 0; i < 2000; ++i) ASSERT_LT(r.below(n), n) << "n=" << n;
  }
  std::vector<int> hist(7, 0);
  for (int i = 0; i < 70000; ++i) ++hist[static_cast<std::size_t>(r.below(7))];
  for (int h : hist) EXPECT_NEAR(h, 10000, 500);
}

TEST(Rng, StateResumesTheExactStream) {
  Rng r(77);
  (void)r.normal();  // odd number of normals: a cached value is part of the state
  (void)r.next_u64();
  const Rng::State saved = r.state();
  EXPECT_TRUE(saved.has_cached_normal);
  std::vector<double> expect;
  for (int i = 0; i < 25; ++i) expect.push_back(i % 3 == 0 ? r.normal() : r.uniform());
  Rng other(1);
  other.set_state(saved);
  for (int i = 0; i < 25; ++i)
    EXPECT_EQ(i % 3 == 0 ? other.normal() : other.uniform(), expect[static_cast<std::size_t>(i)]) << i;
  r.set_state(saved);
  for (int i = 0; i < 25; ++i)
    EXPECT_EQ(i % 3 == 0 ? r.normal() : r.uniform(), expect[static_cast<std::size_t>(i)]) << i;
}

// ---------------------------------------------------------------- parallel_for

TEST(ParallelFor, CoversTheRangeExactlyOnce) {
  ThreadGuard guard;
  for (int threads : {1, 2, 3, 4, 8}) {
    adakit::set_num_threads(threads);
    EXPECT_EQ(adakit::num_threads(), threads);
    for (std::int64_t n : {0, 1, 15, 16, 17, 100, 1000, 4099, 100003}) {
      for (std::int64_t grain : {1, 16, 1000}) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        std::mutex mu;
        std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
        adakit::parallel_for(n, grain, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
          std::lock_guard lock(mu);
          chunks.emplace_back(b, e);
        });
        for (std::int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1)
              << "threads=" << threads << " n=" << n << " grain=" << grain << " i=" << i;
        ASSERT_LE(chunks.size(), static_cast<std::size_t>(threads));
        if (n == 0) {
          EXPECT_TRUE(chunks.empty());
        }
        // Chunk bounds are multiples of 16 (except n itself).
        for (auto [b, e] : chunks) {
          EXPECT_LT(b, e);
          EXPECT_EQ(b % 16, 0) << "begin " << b;
          if (e != n) {
            EXPECT_EQ(e % 16, 0) << "end " << e;
          }
        }
        // Below 2 * grain it runs inline as one chunk.
        if (n > 0 && n < 2 * grain) {
          EXPECT_EQ(chunks.size(), 1u);
        }
      }
    }
  }
}

TEST(ParallelFor, SplitIsDeterministicAndUsesTheThreads) {
  ThreadGuard guard;
  adakit::set_num_threads(2);
  auto split = [] {
    std::mutex mu;
    std::set<std::pair<std::int64_t, std::int64_t>> chunks;
    adakit::parallel_for(200000, 32768, [&](std::int64_t b, std::int64_t e) {
      std::lock_guard lock(mu);
      chunks.emplace(b, e);
    });
    return chunks;
  };
  const auto first = split();
  EXPECT_EQ(first.size(), 2u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(split(), first);
  adakit::set_num_threads(1);
  EXPECT_EQ(split().size(), 1u);
  adakit::set_num_threads(0);
  EXPECT_GE(adakit::num_threads(), 1);
  adakit::set_num_threads(-5);  // <= 0 restores the default
  EXPECT_GE(adakit::num_threads(), 1);
}

TEST(ParallelFor, PropagatesAnExceptionFromAChunk) {
  ThreadGuard guard;
  for (int threads : {1, 2, 4}) {
    adakit::set_num_threads(threads);
    std::atomic<std::int64_t> visited{0};
    try {
      adakit::parallel_for(10000, 16, [&](std::int64_t b, std::int64_t e) {
        visited += e - b;
        if (b <= 5000 && 5000 < e) throw std::runtime_error("chunk with 5000 failed");
      });
      FAIL() << "no exception with " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "chunk with 5000 failed");
    }
    EXPECT_GT(visited.load(), 0);
    // The pool still works afterwards.
    std::atomic<std::int64_t> total{0};
    adakit::parallel_for(10000, 16, [&](std::int64_t b, std::int64_t e) { total += e - b; });
    EXPECT_EQ(total.load(), 10000);
  }
  adakit::set_num_threads(2);
  EXPECT_THROW(adakit::parallel_for(100, 1, [](std::int64_t, std::int64_t) { throw UsageError("bad"); }),
               UsageError);
}

// ---------------------------------------------------------------- Error

TEST(Error, FormatsFileLineFieldMessage) {
  const Error full("must be positive", {"conf.toml", 12, "lr"});
  EXPECT_STREQ(full.what(), "conf.toml:12: field 'lr': must be positive");
  EXPECT_EQ(full.message(), "must be positive");
  EXPECT_EQ(full.context().file, "conf.toml");
  EXPECT_EQ(full.context().line, 12);
  EXPECT_EQ(full.context().field, "lr");

  EXPECT_STREQ(Error("m", {"a.json", 0, ""}).what(), "a.json: m");
  EXPECT_STREQ(Error("m", {"a.json", 3, ""}).what(), "a.json:3: m");
  EXPECT_STREQ(Error("m", {"", 3, ""}).what(), "line 3: m");
  EXPECT_STREQ(Error("m", {"", 3, "x"}).what(), "line 3: field 'x': m");
  EXPECT_STREQ(Error("m", {"", 0, "x"}).what(), "field 'x': m");
  EXPECT_STREQ(Error("m", {"f", 0, "x"}).what(), "f: field 'x': m");
  EXPECT_STREQ(Error("plain").what(), "plain");

  // UsageError is an Error (and a std::runtime_error) with the same formatting.
  try {
    throw UsageError("bad value", {"", 0, "eps"});
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "field 'eps': bad value");
    EXPECT_NE(dynamic_cast<const UsageError*>(&e), nullptr);
  }
  EXPECT_THROW(throw UsageError("x"), std::runtime_error);
}

}  // namespace
