// Replays recorded trajectories (tests/reference/fixtures, see tests/reference/README.md):
// PyTorch's own optimizers, and AdaGrad as other libraries define it. Every parameter value after
// every step, and the final optimizer state, must match within 1e-5 relative.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"

namespace {

using nlohmann::json;
using adakit::Parameter;
using adakit::Tensor;
using adakit::optim::OptionMap;

constexpr double kTolerance = 1e-5;
// Relative error |a - b| / max(|b|, kFloor), b the reference. The fixtures' parameters are O(1)
// (|init| up to ~2, median ~0.6) and many cross zero; near zero a value is the difference of O(1)
// float32 quantities, so an exact float32 replay still differs from torch by a few ulps of 1.0 there
// (torch and adakit fuse and order the float operations differently). The floor of 0.1 turns that
// into an absolute bound of 1e-6 below |b| = 0.1 and keeps 1e-5 relative above it.
constexpr double kFloor = 0.1;
// Also reported, not asserted: the same error with a 1e-3 floor.
constexpr double kReportFloor = 1e-3;

double rel_err(double a, double b, double floor = kFloor) { return std::abs(a - b) / std::max(std::abs(b), floor); }

json load_fixture(const std::string& file) {
  const std::string path = std::string(ADAKIT_FIXTURE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  return json::parse(in);
}

const json& torch_fixture() {
  static const json j = load_fixture("optim_torch.json");
  return j;
}
const json& conventions_fixture() {
  static const json j = load_fixture("adagrad_conventions.json");
  return j;
}

// A fixture option as the text the registry takes: numbers in a form that reads back to the same
// double, booleans as true/false, strings (eps_mode) as they are.
std::string option_text(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
    return buf;
  }
  throw std::runtime_error("unexpected option value " + v.dump());
}

OptionMap options_of(const json& c) {
  OptionMap m;
  for (const auto& [k, v] : c.at("options").items()) m[k] = option_text(v);
  return m;
}

std::vector<float> floats(const json& v) {
  std::vector<float> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(static_cast<float>(x.get<double>()));
  return out;
}

// Running totals over every comparison made.
struct Stats {
  int cases = 0;
  std::int64_t steps = 0;
  std::int64_t values = 0;
  double max_rel = 0.0;         // with kFloor: the asserted one
  double max_rel_small = 0.0;   // with kReportFloor
  double max_abs_param = 0.0;   // largest |a - b| on a parameter value
  std::string worst;
};

// Compares `got` with `want` elementwise; records the largest error; returns the number of values
// outside the tolerance and describes the first in `first_bad`.
std::int64_t compare(std::span<const float> got, const std::vector<float>& want, const std::string& what, Stats& st,
                     std::string& first_bad, bool is_param) {
  if (got.size() != want.size()) {
    if (first_bad.empty()) first_bad = what + ": " + std::to_string(got.size()) + " values, expected " +
                                       std::to_string(want.size());
    return 1;
  }
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double e = rel_err(got[i], want[i]);
    ++st.values;
    st.max_rel_small = std::max(st.max_rel_small, rel_err(got[i], want[i], kReportFloor));
    if (is_param) st.max_abs_param = std::max(st.max_abs_param, std::abs(static_cast<double>(got[i]) - want[i]));
    if (e > st.max_rel || std::isnan(e)) {
      st.max_rel = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
      st.worst = what + "[" + std::to_string(i) + "]";
    }
    if (!(e <= kTolerance)) {
      if (bad++ == 0 && first_bad.empty()) {
        std::ostringstream msg;
        msg.precision(9);
        msg << what << "[" << i << "]: adakit " << got[i] << ", reference " << want[i] << ", relative error " << e;
        first_bad = msg.str();
      }
    }
  }
  return bad;
}

// Replays one case through the registry with `options`; returns the number of mismatching values.
std::int64_t replay(const json& c, const OptionMap& options, Stats& st, std::string& first_bad) {
  const std::string name = c.at("name");
  const bool sparse = c.at("sparse").get<bool>();
  std::deque<Parameter> params;
  std::vector<Parameter*> ptrs;
  for (const auto& p : c.at("params")) {
    const auto shape = p.at("shape").get<adakit::Shape>();
    const auto init = floats(p.at("init"));
    params.emplace_back(p.at("name").get<std::string>(), Tensor(shape, std::span<const float>(init)));
    ptrs.push_back(&params.back());
  }
  auto opt = adakit::optim::make_optimizer(c.at("optimizer").get<std::string>(), ptrs, options);

  std::int64_t bad = 0;
  const auto& steps = c.at("steps");
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const auto& step = steps[s];
    if (sparse) {
      EXPECT_EQ(ptrs.size(), 1u);
      ptrs[0]->sparse_grad() =
          adakit::RowSparseGrad{step.at("indices").get<std::vector<std::int64_t>>(), floats(step.at("row_grads"))};
    } else {
      const auto& grads = step.at("grads");
      EXPECT_EQ(grads.size(), ptrs.size());
      for (std::size_t k = 0; k < ptrs.size(); ++k) {
        const auto g = floats(grads[k]);
        EXPECT_EQ(g.size(), static_cast<std::size_t>(ptrs[k]->numel()));
        std::copy(g.begin(), g.end(), ptrs[k]->grad().span().begin());
      }
    }
    opt->step();
    ++st.steps;
    const auto& expect = step.at("params");
    for (std::size_t k = 0; k < ptrs.size(); ++k)
      bad += compare(ptrs[k]->value().span(), floats(expect[k]),
                     name + " step " + std::to_string(s + 1) + " " + ptrs[k]->name(), st, first_bad, true);
  }
  EXPECT_EQ(opt->steps(), static_cast<std::int64_t>(steps.size())) << name;

  // Final state: same buffer names as torch's, same values, same step counts.
  const auto& final_state = c.at("final_state");
  for (auto* p : ptrs) {
    SCOPED_TRACE(name + " state of " + p->name());
    const auto* state = opt->state(*p);
    if (state == nullptr) {
      ADD_FAILURE() << "no state";
      ++bad;
      continue;
    }
    const auto& want = final_state.at(p->name());
    EXPECT_EQ(state->step, want.at("step").get<std::int64_t>());
    std::set<std::string> want_names, got_names;
    for (const auto& [k, v] : want.items())
      if (k != "step") want_names.insert(k);
    for (const auto& [k, v] : state->buffers) got_names.insert(k);
    EXPECT_EQ(got_names, want_names);
    for (const auto& k : want_names) {
      const Tensor* buf = state->buffer(k);
      if (buf == nullptr) {
        ++bad;
        continue;
      }
      bad += compare(buf->span(), floats(want.at(k)), name + " final " + p->name() + "." + k, st, first_bad, false);
    }
  }
  ++st.cases;
  return bad;
}


// ---------------------------------------------------------------- tests

TEST(Reference, TorchTrajectories) {
  const auto& cases = torch_fixture().at("cases");
  ASSERT_GE(cases.size(), 30u);
  Stats st;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::string first_bad;
    const std::int64_t bad = replay(c, options_of(c), st, first_bad);
    EXPECT_EQ(bad, 0) << first_bad;
  }
  EXPECT_EQ(st.cases, static_cast<int>(cases.size()));
  EXPECT_GE(st.steps, 40 * st.cases);
  EXPECT_LE(st.max_rel, kTolerance) << "worst: " << st.worst;
}

TEST(Reference, AdagradConventionTrajectories) {
  const auto& cases = conventions_fixture().at("cases");
  ASSERT_GE(cases.size(), 5u);
  Stats st;
  std::set<std::string> conventions_seen;
  for (const auto& c : cases) {
    const std::string name = c.at("name");
    const std::string convention = c.at("convention");
    SCOPED_TRACE(name);
    std::string first_bad;
    EXPECT_EQ(replay(c, options_of(c), st, first_bad), 0) << first_bad;
    if (name != convention) continue;
    conventions_seen.insert(convention);

    // The named preset holds exactly the fixture's options (lr aside: the fixture uses 0.1 throughout).
    const auto& o = c.at("options");
    adakit::optim::AdagradOptions preset = adakit::optim::adagrad_convention(convention);
    EXPECT_EQ(preset.lr_decay, o.at("lr_decay").get<double>());
    EXPECT_EQ(preset.weight_decay, o.at("weight_decay").get<double>());
    EXPECT_EQ(preset.initial_accumulator_value, o.at("initial_accumulator_value").get<double>());
    EXPECT_EQ(preset.eps, o.at("eps").get<double>());
    EXPECT_EQ(std::string(adakit::optim::to_string(preset.eps_mode)), o.at("eps_mode").get<std::string>());
    EXPECT_EQ(preset.maximize, o.at("maximize").get<bool>());
    EXPECT_EQ(preset.zero_update_where_sum_zero, o.at("zero_update_where_sum_zero").get<bool>());
    EXPECT_EQ(preset.accumulate_after_update, o.at("accumulate_after_update").get<bool>());
    std::size_t checked = 8;  // the fields above, plus lr
    EXPECT_EQ(o.size(), checked + 1) << "a fixture option this test does not check";

    // And the registry's "convention" key reproduces the trajectory with the preset alone.
    std::string first_bad_preset;
    Stats preset_stats;
    EXPECT_EQ(replay(c, {{"convention", convention}, {"lr", option_text(o.at("lr"))}}, preset_stats, first_bad_preset),
              0)
        << "via convention=" << convention << ": " << first_bad_preset;
    EXPECT_LE(preset_stats.max_rel, kTolerance);
  }
  for (auto n : adakit::optim::adagrad_convention_names())
    EXPECT_TRUE(conventions_seen.contains(std::string(n))) << "no fixture case for convention " << n;
  EXPECT_LE(st.max_rel, kTolerance) << "worst: " << st.worst;
}

// The line to quote: every case of both files, replayed here again so that this test stands alone
// (ctest runs each test in its own process).
TEST(Reference, Summary) {
  Stats t;
  std::int64_t bad = 0;
  std::string first_bad;
  for (const json* file : {&torch_fixture(), &conventions_fixture()})
    for (const auto& c : file->at("cases")) bad += replay(c, options_of(c), t, first_bad);
  std::ostringstream e;
  e.precision(2);
  e << "reference: " << t.cases << " cases, " << t.steps << " steps, max relative error " << t.max_rel << "\n";
  e << "reference: " << t.values << " values compared (parameters after every step, final state); relative error "
    << "|a-b|/max(|b|," << kFloor << "), worst at " << t.worst << "; with a " << kReportFloor << " floor it is "
    << t.max_rel_small << "; largest absolute error on a parameter " << t.max_abs_param << "\n";
  std::cout << e.str() << std::flush;
  EXPECT_EQ(t.cases, static_cast<int>(torch_fixture().at("cases").size() + conventions_fixture().at("cases").size()));
  EXPECT_EQ(bad, 0) << first_bad;
  EXPECT_LE(t.max_rel, kTolerance);
  EXPECT_GT(t.values, 0);
}

// Every optimizer of the registry with a torch.optim counterpart has torch cases; every case names a
// registry optimizer. The AdaGrad family beyond the diagonal has no torch.optim counterpart in the
// fixtures' PyTorch: it is checked against float64 re-implementations (family_test.cpp, suite_test.cpp).
TEST(Reference, FixtureCoversTheRegistry) {
  const std::set<std::string> no_torch{"adagrad-norm", "adagrad-full", "sm3", "shampoo", "adafactor"};
  std::map<std::string, int> per_optimizer;
  for (const auto& c : torch_fixture().at("cases")) ++per_optimizer[c.at("optimizer").get<std::string>()];
  std::size_t with_torch = 0;
  for (const auto& info : adakit::optim::optimizers()) {
    if (no_torch.contains(std::string(info.name))) continue;
    ++with_torch;
    EXPECT_GE(per_optimizer[std::string(info.name)], 3) << "too few torch cases for " << info.name;
  }
  for (const auto& [name, n] : per_optimizer)
    EXPECT_NO_THROW((void)adakit::optim::find_optimizer(name)) << name << " (" << n << " cases)";
  EXPECT_EQ(per_optimizer.size(), with_torch);
  for (const auto& name : no_torch) EXPECT_NO_THROW((void)adakit::optim::find_optimizer(name)) << name;
}

// The replay is sensitive: a case replayed with a slightly wrong option fails the tolerance.
TEST(Reference, ToleranceDetectsAWrongOption) {
  const json* lr_decay_case = nullptr;
  for (const auto& c : torch_fixture().at("cases"))
    if (c.at("name") == "adagrad_lr_decay") lr_decay_case = &c;
  ASSERT_NE(lr_decay_case, nullptr);
  OptionMap wrong = options_of(*lr_decay_case);
  wrong["lr_decay"] = "0.0105";  // 0.01 in the fixture
  Stats st;
  std::string first_bad;
  EXPECT_GT(replay(*lr_decay_case, wrong, st, first_bad), 0);
  EXPECT_GT(st.max_rel, 10 * kTolerance);
  const json* glove = nullptr;
  for (const auto& c : conventions_fixture().at("cases"))
    if (c.at("name") == "glove") glove = &c;
  ASSERT_NE(glove, nullptr);
  OptionMap before = options_of(*glove);
  ASSERT_EQ(before.at("accumulate_after_update"), "true");
  before["accumulate_after_update"] = "false";  // PyTorch's order instead of GloVe's
  Stats st2;
  EXPECT_GT(replay(*glove, before, st2, first_bad), 0);
  EXPECT_GT(st2.max_rel, 10 * kTolerance);
}

}  // namespace
