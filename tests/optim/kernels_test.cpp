// Kernels and optimizer plumbing: row-sparse AdaGrad, argument checks, option validation, the
// registry, schedules, gradient clipping, parameter groups.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/adadelta.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/adam.hpp"
#include "adakit/optim/clip.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/optim/rmsprop.hpp"
#include "adakit/optim/schedule.hpp"
#include "adakit/optim/sgd.hpp"

namespace {

using adakit::Parameter;
using adakit::RowSparseGrad;
using adakit::Tensor;
using adakit::UsageError;
using namespace adakit::optim;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double rel_err(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

// Runs `f`, which must throw UsageError; returns it for further checks.
template <class F>
UsageError expect_usage_error(F&& f, const std::string& where) {
  try {
    f();
  } catch (const UsageError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << where << ": threw something other than UsageError: " << e.what();
    return UsageError("wrong exception");
  }
  ADD_FAILURE() << where << ": no exception";
  return UsageError("no exception");
}

// The error must name `field` both in its context and in its text.
void expect_names_field(const UsageError& e, const std::string& field) {
  EXPECT_EQ(e.context().field, field) << e.what();
  EXPECT_TRUE(contains(e.what(), field)) << e.what();
}

// ---------------------------------------------------------------- row-sparse AdaGrad

struct RowsCase {
  std::string label;
  AdagradOptions options;
};

std::vector<RowsCase> rows_cases() {
  std::vector<RowsCase> out;
  out.push_back({"default", AdagradOptions{}});
  AdagradOptions o;
  o.lr = 0.3;
  o.lr_decay = 0.25;
  out.push_back({"lr_decay", o});
  o = {};
  o.lr = 0.2;
  o.maximize = true;
  out.push_back({"maximize", o});
  o = {};
  o.lr = 0.1;
  o.eps = 1e-3;
  o.eps_mode = EpsMode::inside;
  out.push_back({"eps_inside", o});
  o = {};
  o.lr = 0.1;
  o.initial_accumulator_value = 0.7;
  out.push_back({"initial_accumulator", o});
  o = adagrad_convention("glove");
  o.lr = 0.05;
  out.push_back({"glove", o});
  o = adagrad_convention("optax");
  o.initial_accumulator_value = 0.0;
  out.push_back({"optax_zero_init", o});
  o = {};
  o.lr = 0.4;
  o.lr_decay = 0.1;
  o.maximize = true;
  o.eps_mode = EpsMode::inside;
  o.eps = 1e-4;
  o.initial_accumulator_value = 0.2;
  out.push_back({"everything", o});
  return out;
}

TEST(AdagradRows, EqualsDenseStepWhenOtherRowsHaveZeroGradient) {
  constexpr std::int64_t rows = 8, dim = 3;
  const std::vector<std::vector<std::int64_t>> step_indices{
      {5, 1, 5, 0, 5},  // duplicates: row 5 three times
      {7, 7, 2},
      {1, 6, 1, 1, 3},
      {0},
  };  // row 4 is never touched
  int identical = 0, compared = 0;
  for (const auto& c : rows_cases()) {
    SCOPED_TRACE(c.label);
    adakit::Rng rng(11);
    std::vector<float> table(rows * dim);
    rng.fill_uniform(table, -1.0, 1.0);
    std::vector<float> sum(rows * dim, static_cast<float>(c.options.initial_accumulator_value));
    std::vector<float> dense_table = table, dense_sum = sum;
    for (std::size_t s = 0; s < step_indices.size(); ++s) {
      const auto t = static_cast<std::int64_t>(s + 1);
      const auto& idx = step_indices[s];
      std::vector<float> row_grads(idx.size() * dim);
      rng.fill_normal(row_grads, 0.0, 1.0);
      // Dense gradient: duplicates summed, in the order they appear; zero elsewhere.
      std::vector<float> dense_grad(rows * dim, 0.0f);
      std::set<std::int64_t> touched;
      for (std::size_t k = 0; k < idx.size(); ++k) {
        touched.insert(idx[k]);
        for (std::int64_t j = 0; j < dim; ++j)
          dense_grad[static_cast<std::size_t>(idx[k] * dim + j)] += row_grads[k * dim + static_cast<std::size_t>(j)];
      }
      const std::vector<float> before_table = table, before_sum = sum;
      adagrad_step_rows(table, sum, dim, idx, row_grads, c.options, t);
      adagrad_step(dense_table, dense_grad, dense_sum, c.options, t);
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t j = 0; j < dim; ++j) {
          const auto i = static_cast<std::size_t>(r * dim + j);
          if (!touched.contains(r)) {
            EXPECT_EQ(std::memcmp(&table[i], &before_table[i], sizeof(float)), 0) << "untouched row " << r;
            EXPECT_EQ(std::memcmp(&sum[i], &before_sum[i], sizeof(float)), 0) << "untouched row " << r;
          } else {
            EXPECT_NE(table[i], before_table[i]) << "touched row " << r << " did not move";
          }
          EXPECT_LE(rel_err(table[i], dense_table[i]), 1e-6) << "step " << t << " row " << r << " col " << j;
          EXPECT_LE(rel_err(sum[i], dense_sum[i]), 1e-6) << "step " << t << " row " << r << " col " << j;
          ++compared;
          identical += std::memcmp(&table[i], &dense_table[i], sizeof(float)) == 0 &&
                       std::memcmp(&sum[i], &dense_sum[i], sizeof(float)) == 0;
        }
      }
    }
  }
  // Same formula, same float operations: the results are the same bits.
  EXPECT_EQ(identical, compared);
}

// The sparse step against a straightforward one written here: each touched row's duplicates added in
// the order they appear (the first copied), then the dense kernel on that row. Bit-identical for every
// convention and for 1 and 2 threads, and within 1e-5 of the same step done in double precision.
TEST(AdagradRows, MatchesAnOrderedReferenceOnRandomBatches) {
  struct Restore {
    ~Restore() { adakit::set_num_threads(0); }
  } restore;
  constexpr std::size_t rows = 300, dim = 9;  // dim not a multiple of the vector width
  adakit::Rng rng(3);
  // Batches: many duplicates (20000 indices over 300 rows: big enough to split over two threads), a
  // Zipf-like skew, an empty batch, a single row, all indices the same row.
  std::vector<std::vector<std::int64_t>> batches(6);
  for (int i = 0; i < 20000; ++i) batches[0].push_back(static_cast<std::int64_t>(rng.below(rows)));
  for (int i = 0; i < 5000; ++i) {
    const double u = rng.uniform();
    batches[1].push_back(static_cast<std::int64_t>(std::pow(static_cast<double>(rows), u)) - 1);
  }
  batches[3] = {static_cast<std::int64_t>(rows - 1)};
  batches[4] = std::vector<std::int64_t>(200, 17);
  for (int i = 0; i < 300; ++i) batches[5].push_back(static_cast<std::int64_t>(rng.below(rows)));
  for (const auto& c : rows_cases()) {
    for (const int threads : {1, 2}) {
      SCOPED_TRACE(c.label + ", threads " + std::to_string(threads));
      adakit::set_num_threads(threads);
      adakit::Rng data(17);
      std::vector<float> table(rows * dim);
      data.fill_uniform(table, -1.0, 1.0);
      std::vector<float> sum(table.size(), static_cast<float>(c.options.initial_accumulator_value));
      std::vector<float> ref_table = table, ref_sum = sum;
      std::vector<double> dbl_table(table.begin(), table.end()), dbl_sum(sum.begin(), sum.end());
      // The same rows interleaved (linear::LinearModel's layout): parameters, a gap, sums, a gap.
      constexpr std::size_t stride = 2 * dim + 3, sum_offset = dim + 1;
      std::vector<float> inter(rows * stride, 7.0f);  // the gaps keep 7
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < dim; ++j) {
          inter[r * stride + j] = table[r * dim + j];
          inter[r * stride + sum_offset + j] = sum[r * dim + j];
        }
      for (std::size_t s = 0; s < batches.size(); ++s) {
        const auto t = static_cast<std::int64_t>(s + 1);
        const auto& idx = batches[s];
        std::vector<float> row_grads(idx.size() * dim);
        data.fill_normal(row_grads, 0.0, 1.0);
        adagrad_step_rows(table, sum, static_cast<std::int64_t>(dim), idx, row_grads, c.options, t);
        adagrad_step_rows_interleaved(inter, stride, sum_offset, dim, idx, row_grads, c.options, t);
        for (std::size_t r = 0; r < rows; ++r)  // bit for bit the separate tables' step; gaps untouched
          for (std::size_t j = 0; j < stride; ++j) {
            const float want = j < dim ? table[r * dim + j]
                               : j >= sum_offset && j < sum_offset + dim ? sum[r * dim + j - sum_offset]
                                                                         : 7.0f;
            ASSERT_EQ(std::memcmp(&inter[r * stride + j], &want, sizeof(float)), 0) << "row " << r << " slot " << j;
          }
        // Reference, float: ordered sums, then adagrad_step on each touched row.
        std::vector<float> g(table.size(), 0.0f);
        std::vector<double> gd(table.size(), 0.0);
        std::vector<bool> seen(rows, false);
        for (std::size_t k = 0; k < idx.size(); ++k) {
          const auto r = static_cast<std::size_t>(idx[k]);
          for (std::size_t j = 0; j < dim; ++j) {
            const float v = row_grads[k * dim + j];
            g[r * dim + j] = seen[r] ? g[r * dim + j] + v : v;
            gd[r * dim + j] += v;
          }
          seen[r] = true;
        }
        const double clr = c.options.lr / (1.0 + static_cast<double>(t - 1) * c.options.lr_decay);
        const double sign = c.options.maximize ? -1.0 : 1.0;
        for (std::size_t r = 0; r < rows; ++r) {
          if (!seen[r]) continue;
          const std::size_t o = r * dim;
          adagrad_step(std::span(ref_table).subspan(o, dim), std::span(g).subspan(o, dim),
                       std::span(ref_sum).subspan(o, dim), c.options, t);
          for (std::size_t j = o; j < o + dim; ++j) {  // adagrad.hpp's formula in double
            const double gi = sign * gd[j], s_new = dbl_sum[j] + gi * gi;
            const double u = c.options.accumulate_after_update ? dbl_sum[j] : s_new;
            const double d = c.options.eps_mode == EpsMode::inside ? std::sqrt(u + c.options.eps)
                                                                   : std::sqrt(u) + c.options.eps;
            const double step = c.options.zero_update_where_sum_zero && u <= 0.0 ? 0.0 : gi / d;
            dbl_table[j] -= clr * step;
            dbl_sum[j] = s_new;
          }
        }
        ASSERT_EQ(std::memcmp(table.data(), ref_table.data(), table.size() * sizeof(float)), 0) << "step " << t;
        ASSERT_EQ(std::memcmp(sum.data(), ref_sum.data(), sum.size() * sizeof(float)), 0) << "step " << t;
        for (std::size_t i = 0; i < table.size(); ++i) {
          ASSERT_NEAR(table[i], dbl_table[i], 1e-5 * (1.0 + std::abs(dbl_table[i]))) << "step " << t << " at " << i;
          ASSERT_NEAR(sum[i], dbl_sum[i], 1e-5 * (1.0 + std::abs(dbl_sum[i]))) << "step " << t << " at " << i;
        }
      }
    }
  }
}

TEST(AdagradRows, InterleavedRejectsRowsThatCannotHoldParametersAndSums) {
  std::vector<float> t(40, 0.0f);
  const std::vector<std::int64_t> idx{1};
  const std::vector<float> g(4, 1.0f);
  const AdagradOptions o;
  EXPECT_THROW(adagrad_step_rows_interleaved(t, 8, 3, 4, idx, g, o, 1), adakit::UsageError);  // sums overlap
  EXPECT_THROW(adagrad_step_rows_interleaved(t, 7, 4, 4, idx, g, o, 1), adakit::UsageError);  // past the row
  EXPECT_THROW(adagrad_step_rows_interleaved(t, 12, 4, 4, idx, g, o, 1), adakit::UsageError);  // 40 % 12 != 0
  EXPECT_THROW(adagrad_step_rows_interleaved(t, 8, 4, 4, std::vector<std::int64_t>{5}, g, o, 1),
               adakit::UsageError);  // row 5 of 5
  adagrad_step_rows_interleaved(t, 8, 4, 4, idx, g, o, 1);
  EXPECT_EQ(t[8], -static_cast<float>(o.lr));  // θ -= lr g / (√1 + eps), in float: −lr
  EXPECT_EQ(t[12], 1.0f);
  EXPECT_EQ(t[0], 0.0f);
}

TEST(AdagradRows, RejectsWeightDecayBadIndicesAndSizes) {
  std::vector<float> table(12, 1.0f), sum(12, 0.0f);
  const std::vector<float> one_row{0.5f, 0.5f, 0.5f};
  AdagradOptions wd;
  wd.weight_decay = 0.1;
  auto e = expect_usage_error([&] { adagrad_step_rows(table, sum, 3, std::vector<std::int64_t>{1}, one_row, wd, 1); },
                              "weight_decay");
  expect_names_field(e, "weight_decay");

  const AdagradOptions o;
  for (std::int64_t bad : {std::int64_t{-1}, std::int64_t{4}, std::int64_t{1000}}) {
    const std::vector<std::int64_t> idx{0, bad};
    const std::vector<float> two_rows(6, 1.0f);
    e = expect_usage_error([&] { adagrad_step_rows(table, sum, 3, idx, two_rows, o, 1); }, "index");
    EXPECT_TRUE(contains(e.what(), "index " + std::to_string(bad))) << e.what();
  }
  // Nothing was written by the failed calls.
  for (float v : table) EXPECT_EQ(v, 1.0f);
  for (float v : sum) EXPECT_EQ(v, 0.0f);

  std::vector<float> short_sum(9, 0.0f);
  expect_usage_error([&] { adagrad_step_rows(table, short_sum, 3, std::vector<std::int64_t>{0}, one_row, o, 1); },
                     "sum size");
  expect_usage_error(
      [&] { adagrad_step_rows(table, sum, 3, std::vector<std::int64_t>{0, 1}, one_row, o, 1); }, "row_grads size");
  expect_usage_error([&] { adagrad_step_rows(table, sum, 5, std::vector<std::int64_t>{0}, one_row, o, 1); },
                     "table not whole rows");
  expect_usage_error([&] { adagrad_step_rows(table, sum, 0, std::vector<std::int64_t>{}, one_row, o, 1); }, "dim 0");
  expect_usage_error([&] { adagrad_step_rows(table, sum, 3, std::vector<std::int64_t>{0}, one_row, o, 0); }, "step 0");

  // Dense kernels check their sizes too.
  std::vector<float> p(4, 1.0f), g3(3, 1.0f), g4(4, 1.0f), s4(4, 0.0f), s3(3, 0.0f);
  expect_usage_error([&] { adagrad_step(p, g3, s4, o, 1); }, "adagrad grad size");
  expect_usage_error([&] { adagrad_step(p, g4, s3, o, 1); }, "adagrad sum size");
  expect_usage_error([&] { adagrad_step(p, g4, s4, o, 0); }, "adagrad step 0");
  SgdOptions so;
  so.momentum = 0.9;
  expect_usage_error([&] { sgd_step(p, g4, s3, so, 1); }, "sgd momentum buffer size");
  expect_usage_error([&] { sgd_step(p, g3, s4, SgdOptions{}, 1); }, "sgd grad size");
  AdamOptions ao;
  expect_usage_error([&] { adam_step(p, g4, s3, s4, {}, ao, 1); }, "adam exp_avg size");
  ao.amsgrad = true;
  expect_usage_error([&] { adam_step(p, g4, s4, s4, {}, ao, 1); }, "adam max_exp_avg_sq missing");
  RmspropOptions ro;
  ro.centered = true;
  expect_usage_error([&] { rmsprop_step(p, g4, s4, {}, {}, ro, 1); }, "rmsprop grad_avg missing");
  expect_usage_error([&] { adadelta_step(p, g4, s4, s3, AdadeltaOptions{}, 1); }, "adadelta acc_delta size");
}

TEST(AdagradRows, OptimizerRejectsWeightDecayAndBadIndexWithSparseGrads) {
  Parameter table("table", Tensor({4, 2}, 1.0f));
  auto opt = make_optimizer("adagrad", {&table}, {{"weight_decay", "0.01"}});
  table.sparse_grad() = RowSparseGrad{{1}, {1.0f, 2.0f}};
  auto e = expect_usage_error([&] { opt->step(); }, "optimizer weight_decay");
  expect_names_field(e, "weight_decay");
  EXPECT_EQ(opt->steps(), 0);

  auto plain = make_optimizer("adagrad", {&table}, {});
  table.sparse_grad() = RowSparseGrad{{4}, {1.0f, 2.0f}};
  e = expect_usage_error([&] { plain->step(); }, "optimizer index");
  EXPECT_TRUE(contains(e.what(), "index 4")) << e.what();
  ASSERT_NE(plain->state(table), nullptr);
  EXPECT_EQ(plain->state(table)->step, 0);  // the failed step is not counted
  for (float v : table.value().span()) EXPECT_EQ(v, 1.0f);
}

// ---------------------------------------------------------------- option validation

TEST(OptionsValidation, RejectsBadValuesNamingTheField) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  {
    AdagradOptions o;
    o.lr = -0.1;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adagrad lr"), "lr");
    o = {};
    o.lr_decay = -0.01;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adagrad lr_decay"), "lr_decay");
    o = {};
    o.eps = nan;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adagrad eps"), "eps");
    o = {};
    o.initial_accumulator_value = -1.0;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adagrad s0"), "initial_accumulator_value");
    o = {};
    o.weight_decay = inf;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adagrad wd"), "weight_decay");
  }
  {
    AdamOptions o;
    o.beta1 = 1.0;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adam beta1"), "beta1");
    o = {};
    o.beta2 = -0.5;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adam beta2"), "beta2");
    o = {};
    o.eps = nan;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adam eps"), "eps");
    o = {};
    o.lr = -1e-3;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adam lr"), "lr");
  }
  {
    AdadeltaOptions o;
    o.rho = 1.5;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adadelta rho"), "rho");
    o = {};
    o.eps = -1e-6;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "adadelta eps"), "eps");
  }
  {
    SgdOptions o;
    o.nesterov = true;  // momentum 0
    expect_names_field(expect_usage_error([&] { o.validate(); }, "sgd nesterov"), "nesterov");
    o.momentum = 0.9;
    o.dampening = 0.1;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "sgd nesterov dampening"), "nesterov");
    o.dampening = 0.0;
    EXPECT_NO_THROW(o.validate());
    o = {};
    o.momentum = -0.9;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "sgd momentum"), "momentum");
  }
  {
    RmspropOptions o;
    o.alpha = 1.01;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "rmsprop alpha"), "alpha");
    o = {};
    o.lr = nan;
    expect_names_field(expect_usage_error([&] { o.validate(); }, "rmsprop lr"), "lr");
  }
  // The defaults themselves are valid.
  EXPECT_NO_THROW(AdagradOptions{}.validate());
  EXPECT_NO_THROW(AdamOptions{}.validate());
  EXPECT_NO_THROW(adamw_options().validate());
  EXPECT_NO_THROW(SgdOptions{}.validate());
  EXPECT_NO_THROW(RmspropOptions{}.validate());
  EXPECT_NO_THROW(AdadeltaOptions{}.validate());
}

TEST(OptionsValidation, TextOptionsThroughTheRegistry) {
  Parameter p("p", Tensor({2}));
  for (const auto& info : optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    expect_names_field(expect_usage_error([&] { (void)make_optimizer(info.name, {&p}, {{"lr", "-1"}}); }, "lr -1"),
                       "lr");
    expect_names_field(expect_usage_error([&] { (void)make_optimizer(info.name, {&p}, {{"lr", "nan"}}); }, "lr nan"),
                       "lr");
    expect_names_field(expect_usage_error([&] { (void)make_optimizer(info.name, {&p}, {{"lr", "0.1x"}}); }, "lr text"),
                       "lr");
    expect_names_field(expect_usage_error([&] { (void)make_optimizer(info.name, {&p}, {{"maximize", "maybe"}}); },
                                          "maximize text"),
                       "maximize");
  }
  expect_names_field(
      expect_usage_error([&] { (void)make_optimizer("sgd", {&p}, {{"nesterov", "true"}}); }, "sgd nesterov"),
      "nesterov");
  expect_names_field(
      expect_usage_error([&] { (void)make_optimizer("adam", {&p}, {{"beta1", "1"}}); }, "adam beta1"), "beta1");
  expect_names_field(
      expect_usage_error([&] { (void)make_optimizer("adadelta", {&p}, {{"rho", "1.0001"}}); }, "adadelta rho"), "rho");
  expect_names_field(
      expect_usage_error([&] { (void)make_optimizer("adagrad", {&p}, {{"eps_mode", "between"}}); }, "eps_mode"),
      "eps_mode");
  expect_names_field(
      expect_usage_error([&] { (void)make_optimizer("adagrad", {&p}, {{"convention", "caffe"}}); }, "convention"),
      "convention");
  // Text forms that are accepted.
  auto opt = make_optimizer("sgd", {&p}, {{"lr", "+1e-1"}, {"momentum", "0.5"}, {"nesterov", "yes"}});
  EXPECT_EQ(opt->lr(), 0.1);
  EXPECT_EQ(opt->group_options(0).at("nesterov"), "true");
  // set_lr validates too.
  expect_names_field(expect_usage_error([&] { opt->set_lr(-0.5); }, "set_lr"), "lr");
  EXPECT_EQ(opt->lr(), 0.1);
}

// ---------------------------------------------------------------- registry

TEST(Registry, UnknownOptimizerListsTheValidNames) {
  Parameter p("p", Tensor({2}));
  auto e = expect_usage_error([&] { (void)make_optimizer("adagard", {&p}); }, "unknown name");
  EXPECT_TRUE(contains(e.what(), "adagard")) << e.what();
  ASSERT_FALSE(optimizers().empty());
  for (const auto& info : optimizers()) EXPECT_TRUE(contains(e.what(), std::string(info.name))) << e.what();
  EXPECT_THROW((void)find_optimizer(""), UsageError);
  EXPECT_THROW((void)find_optimizer(parse_optimizer_spec("nope:lr=1").first), UsageError);
}

TEST(Registry, OptionThatDoesNotApplyIsNamed) {
  Parameter p("p", Tensor({2}));
  auto e = expect_usage_error([&] { (void)make_optimizer("adagrad", {&p}, {{"rho", "0.9"}}); }, "rho for adagrad");
  expect_names_field(e, "rho");
  EXPECT_TRUE(contains(e.what(), "lr_decay")) << "lists the valid keys: " << e.what();
  e = expect_usage_error([&] { (void)make_optimizer("sgd", {&p}, {{"lr_decay", "0.1"}}); }, "lr_decay for sgd");
  expect_names_field(e, "lr_decay");
  e = expect_usage_error([&] { (void)make_optimizer("adam", {&p}, {{"convention", "keras"}}); }, "convention for adam");
  expect_names_field(e, "convention");
}

TEST(Registry, ParsesOptimizerSpecs) {
  auto [name, options] = parse_optimizer_spec("adagrad:lr=0.1,lr-decay=0.01");
  EXPECT_EQ(name, "adagrad");
  EXPECT_EQ(options, (OptionMap{{"lr", "0.1"}, {"lr_decay", "0.01"}}));
  Parameter p("p", Tensor({2}));
  auto opt = make_optimizer(name, {&p}, options);
  EXPECT_EQ(opt->name(), "adagrad");
  EXPECT_EQ(opt->lr(), 0.1);
  EXPECT_EQ(opt->group_options(0).at("lr_decay"), "0.01");

  auto [bare, none] = parse_optimizer_spec("rmsprop");
  EXPECT_EQ(bare, "rmsprop");
  EXPECT_TRUE(none.empty());
  auto [conv, conv_opts] = parse_optimizer_spec("adagrad:convention=keras,initial-accumulator-value=0.5");
  EXPECT_EQ(conv_opts.at("convention"), "keras");
  auto keras = make_optimizer(conv, {&p}, conv_opts);
  const OptionMap g = keras->group_options(0);
  EXPECT_EQ(g.at("eps_mode"), "inside");                 // from the preset
  EXPECT_EQ(g.at("initial_accumulator_value"), "0.5");  // the explicit key overrides the preset
  EXPECT_EQ(std::stod(g.at("eps")), 1e-7);

  EXPECT_THROW((void)parse_optimizer_spec("adagrad:lr"), UsageError);
  EXPECT_THROW((void)parse_optimizer_spec("adagrad:=1"), UsageError);
}

TEST(Registry, HelpDefaultsMatchTheBuiltOptimizers) {
  std::set<std::string_view> names;
  for (const auto& info : optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name";
    EXPECT_FALSE(info.summary.empty());
    EXPECT_FALSE(info.reference.empty());
    EXPECT_EQ(&find_optimizer(info.name), &info);
    Parameter p("p", Tensor({2}));
    auto opt = info.make({&p}, {});
    EXPECT_EQ(opt->name(), info.name);
    const OptionMap actual = opt->group_options(0);
    const auto help = info.options();
    std::size_t matched = 0;
    for (const auto& h : help) {
      EXPECT_FALSE(h.help.empty()) << h.key;
      if (h.key == "convention") continue;  // a preset, not a stored option
      ASSERT_TRUE(actual.contains(h.key)) << h.key;
      EXPECT_EQ(actual.at(h.key), h.default_value) << h.key;
      ++matched;
    }
    EXPECT_EQ(matched, actual.size());
    EXPECT_TRUE(actual.contains("lr"));
  }
  // torch's defaults, written independently.
  Parameter p("p", Tensor({2}));
  EXPECT_EQ(make_optimizer("adagrad", {&p})->lr(), 0.01);
  EXPECT_EQ(make_optimizer("sgd", {&p})->lr(), 1e-3);
  EXPECT_EQ(make_optimizer("adam", {&p})->lr(), 1e-3);
  EXPECT_EQ(make_optimizer("adamw", {&p})->group_options(0).at("weight_decay"), "0.01");
  EXPECT_EQ(make_optimizer("rmsprop", {&p})->group_options(0).at("alpha"), "0.99");
  EXPECT_EQ(make_optimizer("adadelta", {&p})->lr(), 1.0);
}

// ---------------------------------------------------------------- schedules

TEST(Schedule, ParsesEveryKindAndFollowsTheFormulas) {
  const double pi = std::numbers::pi;
  {
    const Schedule s = Schedule::parse("constant");
    EXPECT_EQ(s.kind, Schedule::Kind::constant);
    for (std::int64_t t : {1, 2, 50, 100000}) EXPECT_EQ(s.factor(t), 1.0);
  }
  {
    const Schedule s = Schedule::parse("step:size=3,gamma=0.5");
    EXPECT_EQ(s.kind, Schedule::Kind::step);
    EXPECT_EQ(s.step_size, 3);
    const double expect[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125};
    for (std::int64_t t = 1; t <= 10; ++t) EXPECT_DOUBLE_EQ(s.factor(t), expect[t - 1]) << "t=" << t;
  }
  {
    const Schedule s = Schedule::parse("exponential:gamma=0.9");
    for (std::int64_t t : {1, 2, 5, 30}) EXPECT_NEAR(s.factor(t), std::pow(0.9, static_cast<double>(t - 1)), 1e-15);
    EXPECT_DOUBLE_EQ(Schedule::parse("exponential").factor(3), 0.99 * 0.99);  // default gamma 0.99
  }
  {
    const Schedule s = Schedule::parse("cosine:total=10,final=0.1");
    for (std::int64_t t : {1, 2, 6, 11, 12, 40}) {
      const double u = std::min<double>(static_cast<double>(t - 1), 10.0);
      EXPECT_NEAR(s.factor(t), 0.1 + 0.9 * 0.5 * (1.0 + std::cos(pi * u / 10.0)), 1e-15) << "t=" << t;
    }
    EXPECT_DOUBLE_EQ(s.factor(1), 1.0);
    EXPECT_NEAR(s.factor(6), 0.55, 1e-15);
    EXPECT_NEAR(s.factor(11), 0.1, 1e-15);
    EXPECT_NEAR(s.factor(500), 0.1, 1e-15);
  }
  {
    const Schedule s = Schedule::parse("linear:total=10,final=0.2");
    for (std::int64_t t : {1, 3, 11, 20}) {
      const double u = std::min<double>(static_cast<double>(t - 1), 10.0);
      EXPECT_NEAR(s.factor(t), 1.0 - 0.8 * u / 10.0, 1e-15) << "t=" << t;
    }
    EXPECT_NEAR(Schedule::parse("linear:total=4").factor(3), 0.5, 1e-15);  // final defaults to 0
  }
}

TEST(Schedule, WarmupThenDecay) {
  const Schedule s = Schedule::parse("cosine:total=10,final=0,warmup=4");
  EXPECT_EQ(s.warmup_steps, 4);
  EXPECT_DOUBLE_EQ(s.factor(1), 0.25);
  EXPECT_DOUBLE_EQ(s.factor(2), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(3), 0.75);
  EXPECT_DOUBLE_EQ(s.factor(4), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(5), 1.0);  // decay starts after warm-up: v = 0
  EXPECT_NEAR(s.factor(6), 0.5 * (1.0 + std::cos(std::numbers::pi / 10.0)), 1e-15);
  EXPECT_NEAR(s.factor(15), 0.0, 1e-15);

  const Schedule c = Schedule::parse("constant:warmup=5");
  EXPECT_DOUBLE_EQ(c.factor(1), 0.2);
  EXPECT_DOUBLE_EQ(c.factor(5), 1.0);
  EXPECT_DOUBLE_EQ(c.factor(100), 1.0);

  const Schedule st = Schedule::parse("step:size=2,gamma=0.1,warmup=2");
  EXPECT_DOUBLE_EQ(st.factor(1), 0.5);
  EXPECT_DOUBLE_EQ(st.factor(3), 1.0);
  EXPECT_DOUBLE_EQ(st.factor(4), 1.0);
  EXPECT_NEAR(st.factor(5), 0.1, 1e-16);
}

TEST(Schedule, TextRoundTripsAndBadSpecsThrow) {
  for (const char* spec : {"constant", "constant:warmup=3", "step:size=7,gamma=0.3", "exponential:gamma=0.97",
                           "cosine:total=50,final=0.05,warmup=5", "linear:total=9,final=0.5"}) {
    SCOPED_TRACE(spec);
    const Schedule a = Schedule::parse(spec);
    const Schedule b = Schedule::parse(a.to_string());
    for (std::int64_t t = 1; t < 80; ++t) EXPECT_EQ(a.factor(t), b.factor(t)) << "t=" << t;
  }
  for (const char* bad : {"", "warm", "step:size=0", "step:size=1.5", "step:gamma=2", "exponential:gamma=-0.1",
                          "cosine:total=abc", "cosine:total=0", "linear:final=1.5", "linear:bogus=1", "step:size",
                          "constant:warmup=-1"}) {
    EXPECT_THROW((void)Schedule::parse(bad), UsageError) << "'" << bad << "'";
  }
}

TEST(Schedule, StepScheduleScalesTheSgdUpdate) {
  // lr 0.5, gradient 1, step schedule halving every 2 steps: updates 0.5, 0.5, 0.25, 0.25, 0.125.
  Parameter x("x", Tensor({2}, 0.0f));
  auto opt = make_optimizer("sgd", {&x}, {{"lr", "0.5"}});
  opt->set_schedule(Schedule::parse("step:size=2,gamma=0.5"));
  const double expected_update[] = {0.5, 0.5, 0.25, 0.25, 0.125, 0.125};
  for (int t = 0; t < 6; ++t) {
    EXPECT_DOUBLE_EQ(opt->scheduled_lr(), expected_update[t]) << "step " << t + 1;
    const float before = x.value()[0];
    x.grad().fill(1.0f);
    opt->step();
    EXPECT_DOUBLE_EQ(static_cast<double>(before - x.value()[0]), expected_update[t]) << "step " << t + 1;
    EXPECT_EQ(x.value()[0], x.value()[1]);
  }
  EXPECT_DOUBLE_EQ(static_cast<double>(x.value()[0]), -1.75);
  EXPECT_EQ(opt->lr(), 0.5);  // the schedule never changes the stored lr

  // Warm-up scales it too, and a bad schedule is refused.
  Parameter y("y", Tensor({1}, 0.0f));
  auto warm = make_optimizer("sgd", {&y}, {{"lr", "1"}});
  warm->set_schedule(Schedule::parse("constant:warmup=4"));
  const float updates[] = {0.25f, 0.5f, 0.75f, 1.0f, 1.0f};
  for (float u : updates) {
    const float before = y.value()[0];
    y.grad()[0] = 1.0f;
    warm->step();
    EXPECT_EQ(before - y.value()[0], u);
  }
  Schedule bad;
  bad.step_size = 0;
  bad.kind = Schedule::Kind::step;
  EXPECT_THROW(warm->set_schedule(bad), UsageError);
}

// ---------------------------------------------------------------- clipping

TEST(Clip, GlobalNormAcrossParameters) {
  Parameter a("a", Tensor({3})), b("b", Tensor({2}));
  a.grad() = Tensor::from({3}, {3.0f, 4.0f, 0.0f});
  b.grad() = Tensor::from({2}, {0.0f, 12.0f});
  std::vector<Parameter*> ps{&a, &b};
  EXPECT_DOUBLE_EQ(global_grad_norm(ps), 13.0);

  // Above the norm: nothing changes.
  ClipOptions loose;
  loose.max_norm = 20.0;
  EXPECT_DOUBLE_EQ(clip_gradients(ps, loose), 13.0);
  EXPECT_EQ(a.grad()[1], 4.0f);
  EXPECT_EQ(b.grad()[1], 12.0f);

  ClipOptions tight;
  tight.max_norm = 1.0;
  EXPECT_DOUBLE_EQ(clip_gradients(ps, tight), 13.0);
  const double scale = 1.0 / (13.0 + 1e-6);
  EXPECT_LE(rel_err(a.grad()[0], 3.0 * scale), 1e-6);
  EXPECT_LE(rel_err(a.grad()[1], 4.0 * scale), 1e-6);
  EXPECT_EQ(a.grad()[2], 0.0f);
  EXPECT_EQ(b.grad()[0], 0.0f);
  EXPECT_LE(rel_err(b.grad()[1], 12.0 * scale), 1e-6);
  EXPECT_NEAR(global_grad_norm(ps), 1.0, 1e-6);

  // A parameter that does not require a gradient takes no part.
  b.set_requires_grad(false);
  a.grad() = Tensor::from({3}, {3.0f, 4.0f, 0.0f});
  EXPECT_DOUBLE_EQ(global_grad_norm(ps), 5.0);
  b.set_requires_grad(true);

  // Sparse gradients count with their values.
  Parameter t("t", Tensor({5, 2}));
  t.sparse_grad() = RowSparseGrad{{1, 3}, {1.0f, 2.0f, 2.0f, 4.0f}};
  std::vector<Parameter*> with_sparse{&a, &t};
  EXPECT_DOUBLE_EQ(global_grad_norm(with_sparse), std::sqrt(25.0 + 25.0));
  clip_gradients(with_sparse, tight);
  EXPECT_LE(rel_err(t.sparse_grad()->values[3], 4.0 / (std::sqrt(50.0) + 1e-6)), 1e-6);
}

TEST(Clip, ByValueClampsAndRunsBeforeTheNorm) {
  Parameter a("a", Tensor({4}));
  std::vector<Parameter*> ps{&a};
  a.grad() = Tensor::from({4}, {3.0f, -4.0f, 0.5f, -2.5f});
  ClipOptions v;
  v.max_value = 2.5;
  EXPECT_EQ(clip_gradients(ps, v), 0.0);  // norm clipping off
  EXPECT_EQ(a.grad()[0], 2.5f);
  EXPECT_EQ(a.grad()[1], -2.5f);
  EXPECT_EQ(a.grad()[2], 0.5f);
  EXPECT_EQ(a.grad()[3], -2.5f);

  a.grad() = Tensor::from({4}, {3.0f, -4.0f, 0.5f, -2.5f});
  ClipOptions both;
  both.max_value = 2.5;
  both.max_norm = 1.0;
  const double clamped_norm = std::sqrt(3 * 2.5 * 2.5 + 0.25);
  EXPECT_NEAR(clip_gradients(ps, both), clamped_norm, 1e-12);
  const double scale = 1.0 / (clamped_norm + 1e-6);
  EXPECT_LE(rel_err(a.grad()[0], 2.5 * scale), 1e-6);
  EXPECT_LE(rel_err(a.grad()[2], 0.5 * scale), 1e-6);

  ClipOptions neg;
  neg.max_norm = -1.0;
  EXPECT_THROW(neg.validate(), UsageError);
  Parameter p("p", Tensor({1}));
  auto opt = make_optimizer("sgd", {&p}, {});
  EXPECT_THROW(opt->set_clip(neg), UsageError);
  EXPECT_FALSE(opt->clip().enabled());
}

TEST(Clip, ComposesWithAdagrad) {
  Parameter a("a", Tensor::from({3}, {1.0f, -1.0f, 0.5f}));
  Parameter b("b", Tensor::from({2}, {2.0f, 0.25f}));
  auto opt = make_optimizer("adagrad", {&a, &b}, {{"lr", "0.1"}});
  ClipOptions c;
  c.max_norm = 1.0;
  opt->set_clip(c);
  EXPECT_TRUE(opt->clip().enabled());

  std::vector<float> va(a.value().span().begin(), a.value().span().end());
  std::vector<float> vb(b.value().span().begin(), b.value().span().end());
  std::vector<float> sa(3, 0.0f), sb(2, 0.0f);
  AdagradOptions o;
  o.lr = 0.1;
  const std::vector<std::vector<float>> ga_steps{{3.0f, 4.0f, 0.0f}, {0.1f, -0.2f, 0.05f}};
  const std::vector<std::vector<float>> gb_steps{{0.0f, 12.0f}, {0.3f, 0.1f}};
  for (std::size_t s = 0; s < 2; ++s) {
    const auto t = static_cast<std::int64_t>(s + 1);
    std::vector<float> ga = ga_steps[s], gb = gb_steps[s];
    double sq = 0.0;
    for (float g : ga) sq += static_cast<double>(g) * g;
    for (float g : gb) sq += static_cast<double>(g) * g;
    const double coef = 1.0 / (std::sqrt(sq) + 1e-6);
    if (coef < 1.0) {
      for (float& g : ga) g *= static_cast<float>(coef);
      for (float& g : gb) g *= static_cast<float>(coef);
    }
    adagrad_step(va, ga, sa, o, t);
    adagrad_step(vb, gb, sb, o, t);

    std::copy(ga_steps[s].begin(), ga_steps[s].end(), a.grad().span().begin());
    std::copy(gb_steps[s].begin(), gb_steps[s].end(), b.grad().span().begin());
    opt->step();
    for (std::int64_t i = 0; i < 3; ++i)
      EXPECT_LE(rel_err(a.value()[i], va[static_cast<std::size_t>(i)]), 1e-6) << "step " << t << " a" << i;
    for (std::int64_t i = 0; i < 2; ++i)
      EXPECT_LE(rel_err(b.value()[i], vb[static_cast<std::size_t>(i)]), 1e-6) << "step " << t << " b" << i;
    for (std::int64_t i = 0; i < 3; ++i)
      EXPECT_LE(rel_err(opt->state(a)->buffer("sum")->operator[](i), sa[static_cast<std::size_t>(i)]), 1e-6);
  }
  // Step 1 was clipped (norm 13): the accumulated sum holds the clipped squares, far below 9.
  EXPECT_LT(opt->state(a)->buffer("sum")->operator[](0), 0.1f);
}

// ---------------------------------------------------------------- parameter groups

TEST(ParamGroups, EachGroupMovesWithItsOwnLr) {
  Parameter p1("p1", Tensor::from({3}, {1.0f, 2.0f, -3.0f}));
  Parameter p2("p2", Tensor::from({3}, {1.0f, 2.0f, -3.0f}));
  auto opt = make_optimizer("adagrad", {&p1}, {{"lr", "0.1"}, {"lr_decay", "0.5"}});
  opt->add_param_group({&p2}, OptionMap{{"lr", "0.5"}});
  ASSERT_EQ(opt->num_groups(), 2u);
  EXPECT_EQ(opt->lr(0), 0.1);
  EXPECT_EQ(opt->lr(1), 0.5);
  EXPECT_EQ(opt->group_options(1).at("lr_decay"), "0.5");  // the rest comes from the defaults
  ASSERT_EQ(opt->group_params(1).size(), 1u);
  EXPECT_EQ(opt->group_params(1)[0], &p2);
  EXPECT_EQ(opt->parameters().size(), 2u);

  AdagradOptions o1, o2;
  o1.lr = 0.1;
  o1.lr_decay = 0.5;
  o2 = o1;
  o2.lr = 0.5;
  std::vector<float> v1(3), v2(3), s1(3, 0.0f), s2(3, 0.0f);
  std::copy(p1.value().span().begin(), p1.value().span().end(), v1.begin());
  std::copy(p2.value().span().begin(), p2.value().span().end(), v2.begin());
  const std::vector<std::vector<float>> grads{{0.5f, -1.0f, 2.0f}, {0.25f, 0.5f, -1.0f}, {1.0f, 1.0f, 1.0f}};
  for (std::size_t s = 0; s < grads.size(); ++s) {
    const auto t = static_cast<std::int64_t>(s + 1);
    if (s == 2) {
      opt->set_lr(0.25, 1);
      o2.lr = 0.25;
    }
    std::copy(grads[s].begin(), grads[s].end(), p1.grad().span().begin());
    std::copy(grads[s].begin(), grads[s].end(), p2.grad().span().begin());
    opt->step();
    adagrad_step(v1, grads[s], s1, o1, t);
    adagrad_step(v2, grads[s], s2, o2, t);
    for (std::int64_t i = 0; i < 3; ++i) {
      const auto k = static_cast<std::size_t>(i);
      EXPECT_EQ(p1.value()[i], v1[k]) << "step " << t;
      EXPECT_EQ(p2.value()[i], v2[k]) << "step " << t;
    }
  }
  // The same gradients moved the two copies by different amounts.
  EXPECT_NE(p1.value()[0], p2.value()[0]);
  EXPECT_EQ(opt->lr(0), 0.1);

  // Unknown option in a new group, or a bad value: refused, nothing added.
  Parameter p3("p3", Tensor({1}));
  EXPECT_THROW(opt->add_param_group({&p3}, OptionMap{{"momentum", "0.9"}}), UsageError);
  EXPECT_THROW(opt->add_param_group({&p3}, OptionMap{{"lr", "-2"}}), UsageError);
  EXPECT_EQ(opt->num_groups(), 2u);
  EXPECT_THROW(opt->set_group_options(0, OptionMap{{"nope", "1"}}), UsageError);
}

TEST(ParamGroups, TypedOptionsGroup) {
  Parameter p1("w", Tensor::from({2}, {1.0f, 1.0f}));
  Parameter p2("b", Tensor::from({2}, {1.0f, 1.0f}));
  SgdOptions base;
  base.lr = 0.5;
  Sgd opt({&p1}, base);
  SgdOptions other = base;
  other.lr = 0.125;
  opt.add_param_group({&p2}, other);
  p1.grad().fill(1.0f);
  p2.grad().fill(1.0f);
  opt.step();
  EXPECT_EQ(p1.value()[0], 0.5f);
  EXPECT_EQ(p2.value()[0], 0.875f);
  EXPECT_EQ(opt.options(1).lr, 0.125);
}

// ---------------------------------------------------------------- sparse gradients elsewhere, names

TEST(SparseGrads, RefusedByOptimizersWithoutRowSupport) {
  for (const auto& info : optimizers()) {
    if (info.name == "adagrad") continue;
    SCOPED_TRACE(std::string(info.name));
    Parameter emb("embedding", Tensor({4, 2}, 1.0f));
    auto opt = info.make({&emb}, {});
    emb.sparse_grad() = RowSparseGrad{{1, 1}, {1.0f, 2.0f, 3.0f, 4.0f}};
    auto e = expect_usage_error([&] { opt->step(); }, "sparse");
    EXPECT_TRUE(contains(e.what(), "embedding")) << e.what();
    EXPECT_TRUE(contains(e.what(), std::string(info.name))) << e.what();
    EXPECT_EQ(opt->steps(), 0);
    for (float v : emb.value().span()) EXPECT_EQ(v, 1.0f);
    // A dense gradient works afterwards, and it is step 1.
    emb.zero_grad();
    emb.grad().fill(0.5f);
    opt->step();
    EXPECT_EQ(opt->steps(), 1);
    EXPECT_EQ(opt->state(emb)->step, 1);
  }
  // adagrad takes them.
  Parameter emb("embedding", Tensor({4, 2}, 1.0f));
  auto ada = make_optimizer("adagrad", {&emb}, {{"lr", "0.5"}});
  emb.sparse_grad() = RowSparseGrad{{2}, {1.0f, -1.0f}};
  ada->step();
  EXPECT_EQ(emb.value()[0], 1.0f);
  EXPECT_LT(emb.value()[4], 1.0f);
  EXPECT_GT(emb.value()[5], 1.0f);
}

TEST(ParamNames, DuplicateNullAndEmptyNamesAreRefused) {
  Parameter a("w", Tensor({2})), b("w", Tensor({2})), c("", Tensor({2})), d("d", Tensor({2}));
  auto e = expect_usage_error([&] { (void)make_optimizer("adagrad", {&a, &b}); }, "duplicate");
  EXPECT_TRUE(contains(e.what(), "'w'")) << e.what();
  expect_usage_error([&] { (void)make_optimizer("sgd", {&a, &a}); }, "same parameter twice");
  expect_usage_error([&] { (void)make_optimizer("adam", {&c}); }, "empty name");
  expect_usage_error([&] { (void)make_optimizer("adam", {&d, nullptr}); }, "null");
  auto opt = make_optimizer("rmsprop", {&a, &d});
  e = expect_usage_error([&] { opt->add_param_group({&b}, OptionMap{}); }, "duplicate across groups");
  EXPECT_TRUE(contains(e.what(), "'w'")) << e.what();
  EXPECT_EQ(opt->num_groups(), 1u);
}

}  // namespace
