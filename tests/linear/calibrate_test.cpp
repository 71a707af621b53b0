// Calibrated probabilities (linear/calibrate.hpp) against independent references: scikit-learn 1.2.1's
// _sigmoid_calibration, IsotonicRegression and CalibratedClassifierCV(cv="prefit"), whose numbers were
// printed by tests/linear/calibrate_reference.py (Debian's /usr/bin/python3; not run by the tests), a
// closed-form Platt case, hand-computed Brier scores and ECE, and model files that round-trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include "adakit/core/error.hpp"
#include "adakit/io/compact_model.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/calibrate.hpp"
#include "adakit/linear/fit.hpp"

namespace adakit::linear {
namespace {

const std::vector<double> kF = {-2.5, -1.7, -1.2, -0.9, -0.4, -0.1, 0.0, 0.3, 0.8, 1.1, 1.6, 2.4, -0.6, 0.5, 1.9, -1.4};
const std::vector<std::uint8_t> kY = {0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0};

TEST(Calibrate, PlattMatchesTheExactOptimumAndScikitLearn) {
  const PlattScaling s = fit_platt(kF, kY);
  // The optimum of Lin, Lin and Weng's objective (scipy BFGS, gtol 1e-12) ...
  EXPECT_NEAR(s.a, -0.8831329473621528, 1e-7);
  EXPECT_NEAR(s.b, -0.017808365194424112, 1e-7);
  // ... and scikit-learn's _sigmoid_calibration (BFGS at its default tolerance).
  EXPECT_NEAR(s.a, -0.8831352842076022, 1e-5);
  EXPECT_NEAR(s.b, -0.017808421027862693, 1e-5);
  EXPECT_NEAR(s(0.5), 1.0 / (1.0 + std::exp(s.a * 0.5 + s.b)), 1e-15);
  EXPECT_GT(s(2.0), s(-2.0));  // higher scores, higher probabilities: a < 0
}

TEST(Calibrate, PlattOnConstantScoresIsTheMeanTarget) {
  // f = 0 everywhere: only B moves, and p = 1/(1 + e^B) is the mean of the targets
  // t+ = (3 + 1)/(3 + 2) = 0.8 (3 positives), t- = 1/(5 + 2) (5 negatives).
  const std::vector<double> f(8, 0.0);
  const std::vector<std::uint8_t> y = {1, 0, 1, 0, 0, 1, 0, 0};
  const double mean = (3 * 0.8 + 5.0 / 7.0) / 8.0;
  // Newton stops once |∂/∂B| = |Σ (t − p)| < tolerance: p is then within tolerance / 8 of the mean.
  const PlattScaling s = fit_platt(f, y);
  EXPECT_EQ(s.a, 0.0);
  EXPECT_NEAR(s(123.0), mean, 1e-5 / 8);
  // A tighter tolerance goes on until the line search can no longer see the objective drop (its
  // value, about 5, in double): B within about 1e-8.
  const PlattScaling tight = fit_platt(f, y, {.tolerance = 1e-13});
  EXPECT_EQ(tight.a, 0.0);
  EXPECT_NEAR(tight.b, std::log((1 - mean) / mean), 1e-8);
  EXPECT_NEAR(tight(123.0), mean, 1e-8);
}

TEST(Calibrate, IsotonicMatchesScikitLearn) {
  const std::vector<double> x = {3, 1, 2, 2, 5, 4, 6, 7, 7, 8};
  const std::vector<std::uint8_t> y = {1, 0, 1, 0, 0, 1, 1, 0, 1, 1};
  const IsotonicCurve c = fit_isotonic(x, y);
  EXPECT_EQ(c.x, (std::vector<double>{1, 2, 3, 7, 8}));  // IsotonicRegression's X_thresholds_
  const std::vector<double> want_y = {0.0, 0.5, 2.0 / 3.0, 2.0 / 3.0, 1.0};
  ASSERT_EQ(c.y.size(), want_y.size());
  for (std::size_t i = 0; i < want_y.size(); ++i) EXPECT_NEAR(c.y[i], want_y[i], 1e-15) << i;
  // IsotonicRegression(out_of_bounds="clip").predict
  const std::vector<double> q = {0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.5, 6.5, 7.5, 8.0, 9.0};
  const std::vector<double> want = {0.0, 0.0, 0.25, 0.5, 0.5833333333333333, 0.6666666666666666, 0.6666666666666666,
                                    0.6666666666666666, 0.6666666666666666, 0.8333333333333333, 1.0, 1.0};
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(c(q[i]), want[i], 1e-15) << "at " << q[i];
}

// CalibratedClassifierCV(cv="prefit") over fixed decision scores [30, 3] (calibrate_reference.py).
const std::vector<std::vector<float>> kScores = {
    {1.76, 0.4, 0.98},    {2.24, 1.87, -0.98},  {0.95, -0.15, -0.1},  {0.41, 0.14, 1.45},   {0.76, 0.12, 0.44},
    {0.33, 1.49, -0.21},  {0.31, -0.85, -2.55}, {0.65, 0.86, -0.74},  {2.27, -1.45, 0.05},  {-0.19, 1.53, 1.47},
    {0.15, 0.38, -0.89},  {-1.98, -0.35, 0.16}, {1.23, 1.2, -0.39},   {-0.3, -1.05, -1.42}, {-1.71, 1.95, -0.51},
    {-0.44, -1.25, 0.78}, {-1.61, -0.21, -0.9}, {0.39, -0.51, -1.18}, {-0.03, 0.43, 0.07},  {0.3, -0.63, -0.36},
    {-0.67, -0.36, -0.81}, {-1.73, 0.18, -0.4}, {-1.63, 0.46, -0.91}, {0.05, 0.73, 0.13},   {1.14, -1.23, 0.4},
    {-0.68, -0.87, -0.58}, {-0.31, 0.06, -1.17}, {0.9, 0.47, -1.54},  {1.49, 1.9, 1.18},    {-0.18, -1.07, 1.05}};
const std::vector<std::int32_t> kLabels = {0, 0, 1, 1, 1, 0, 0, 0, 0, 2, 0, 2, 1, 0, 1,
                                           2, 1, 0, 0, 0, 1, 1, 1, 2, 0, 0, 0, 1, 1, 2};
const std::vector<std::vector<double>> kSigmoidRows = {
    {0.4775347707537836, 0.2617553565002478, 0.26070987274596874},
    {0.5434361787996485, 0.41812091525233447, 0.03844290594801698},
    {0.5602375489180744, 0.3023275006241295, 0.137434950457796},
    {0.3623338687145524, 0.25634464394995604, 0.38132148733549165},
    {0.4828511442636559, 0.3041333636586756, 0.21301549207766862}};
const std::vector<std::vector<double>> kIsotonicRows = {
    {0.5213414634146342, 0.24695121951219512, 0.23170731707317074},
    {0.6785714285714286, 0.32142857142857145, 0.0},
    {0.5319999999999999, 0.46799999999999997, 0.0},
    {0.36967263743051265, 0.3252007411982705, 0.30512662137121677},
    {0.36967263743051265, 0.3252007411982705, 0.30512662137121677}};

// A softmax model over 3 features whose scores are the features themselves (W = I, b = 0), and the
// 30 rows of kScores as its data.
LinearModel identity_model() {
  LinearModel m(LinearTask::softmax, 3, 3);
  for (std::int64_t j = 0; j < 3; ++j) m.weight_row(j)[static_cast<std::size_t>(j)] = 1.0f;
  return m;
}
data::CsrMatrix score_rows() {
  data::CsrMatrix x;
  x.cols = 3;
  for (const auto& row : kScores) {
    for (std::int32_t c = 0; c < 3; ++c) {
      x.indices.push_back(c);
      x.values.push_back(row[static_cast<std::size_t>(c)]);
    }
    x.indptr.push_back(static_cast<std::int64_t>(x.indices.size()));
    ++x.rows;
  }
  return x;
}

void expect_rows(const Tensor& p, const std::vector<std::vector<double>>& want, double tol) {
  for (std::size_t r = 0; r < want.size(); ++r) {
    double total = 0.0;
    for (std::size_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(p.data()[r * 3 + c], want[r][c], tol) << "row " << r << " class " << c;
      total += p.data()[r * 3 + c];
    }
    EXPECT_NEAR(total, 1.0, 1e-6);
  }
}

TEST(Calibrate, MulticlassOneVsRestMatchesCalibratedClassifierCV) {
  LinearModel m = identity_model();
  const data::CsrMatrix x = score_rows();
  for (const auto method : {CalibrationMethod::platt, CalibrationMethod::isotonic}) {
    const Calibrator c = Calibrator::fit(decision_function(m, x), kLabels, 3, {.method = method});
    EXPECT_EQ(c.columns(), 3);
    m.set_calibrator(c);
    // float scores (the reference's are doubles) and scikit-learn's BFGS: agreement to 1e-5.
    expect_rows(predict_proba(m, x), method == CalibrationMethod::platt ? kSigmoidRows : kIsotonicRows, 1e-5);
  }
  // Without the calibrator: softmax.
  const Tensor raw = uncalibrated_proba(m, x);
  const double e0 = std::exp(1.76), e1 = std::exp(0.4), e2 = std::exp(0.98);
  EXPECT_NEAR(raw.data()[0], e0 / (e0 + e1 + e2), 1e-6);
}

TEST(Calibrate, BinaryIsOneCalibratorOnTheScore) {
  LinearModel m(LinearTask::logistic, 1, 2);
  m.weight_row(0)[0] = 1.0f;
  data::CsrMatrix x;
  x.cols = 1;
  std::vector<std::int32_t> labels;
  for (std::size_t i = 0; i < kF.size(); ++i) {
    x.indices.push_back(0);
    x.values.push_back(static_cast<float>(kF[i]));
    x.indptr.push_back(static_cast<std::int64_t>(i + 1));
    labels.push_back(kY[i]);
  }
  x.rows = static_cast<std::int64_t>(kF.size());
  const Calibrator c = Calibrator::fit(decision_function(m, x), labels, 2);
  ASSERT_EQ(c.platt().size(), 1u);
  EXPECT_NEAR(c.platt()[0].a, -0.8831329473621528, 1e-6);
  m.set_calibrator(c);
  const Tensor p = predict_proba(m, x);
  const auto pred = predict(m, x);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    const double p1 = c.platt()[0](static_cast<float>(kF[static_cast<std::size_t>(r)]));
    EXPECT_FLOAT_EQ(p.data()[r * 2 + 1], static_cast<float>(p1));
    EXPECT_FLOAT_EQ(p.data()[r * 2], static_cast<float>(1.0 - p1));
    EXPECT_EQ(pred[static_cast<std::size_t>(r)], p.data()[r * 2 + 1] > p.data()[r * 2] ? 1 : 0);
  }
}

TEST(Calibrate, BrierAndEceByHand) {
  // Binary: p1 = .9 .2 .6 .4, y = 1 0 0 1. Brier = (.01 + .04 + .36 + .36)/4. Top class: (.9, right),
  // (.8, right), (.6, wrong), (.6, wrong): bins {.9}, {.8}, {.6, .6}: ECE = (.1 + .2 + 2 · .6)/4.
  const Tensor pb({4, 2}, std::vector<float>{0.1f, 0.9f, 0.8f, 0.2f, 0.4f, 0.6f, 0.6f, 0.4f});
  const CalibrationMetrics b = calibration_metrics(pb, std::vector<std::int32_t>{1, 0, 0, 1});
  EXPECT_NEAR(b.brier, 0.77 / 4, 1e-6);
  EXPECT_NEAR(b.ece, 0.375, 1e-6);
  EXPECT_NEAR(b.accuracy, 0.5, 1e-12);
  EXPECT_NEAR(b.log_loss, -(std::log(0.9) + std::log(0.8) + 2 * std::log(0.4)) / 4, 1e-6);
  // Three classes: Brier = (.14 + .74 + .015)/3; top (.7 right), (.4 class 2, wrong), (.9 right):
  // three bins, ECE = (.3 + .4 + .1)/3.
  const Tensor pm({3, 3}, std::vector<float>{0.7f, 0.2f, 0.1f, 0.3f, 0.3f, 0.4f, 0.05f, 0.9f, 0.05f});
  const CalibrationMetrics m = calibration_metrics(pm, std::vector<std::int32_t>{0, 1, 1});
  EXPECT_NEAR(m.brier, 0.895 / 3, 1e-6);
  EXPECT_NEAR(m.ece, 0.8 / 3, 1e-6);
  EXPECT_NEAR(m.accuracy, 2.0 / 3, 1e-12);
  // Perfect confidence, all right: 0 everywhere (1.0 falls in the last bin).
  const Tensor one({2, 2}, std::vector<float>{0.0f, 1.0f, 1.0f, 0.0f});
  const CalibrationMetrics z = calibration_metrics(one, std::vector<std::int32_t>{1, 0});
  EXPECT_EQ(z.brier, 0.0);
  EXPECT_EQ(z.ece, 0.0);
  EXPECT_THROW(calibration_metrics(pm, std::vector<std::int32_t>{0, 1}), UsageError);
}

std::string field_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.context().field;
  }
  return "(no error)";
}

TEST(Calibrate, BadOptionsNameTheirField) {
  EXPECT_EQ(field_of([] { (void)calibration_method_from_string("sigmoidal"); }), "method");
  EXPECT_EQ(field_of([] { CalibrationOptions{.max_iterations = 0}.validate(); }), "max_iterations");
  EXPECT_EQ(field_of([] { CalibrationOptions{.min_step = 0.0}.validate(); }), "min_step");
  EXPECT_EQ(field_of([] { CalibrationOptions{.hessian_ridge = -1.0}.validate(); }), "hessian_ridge");
  EXPECT_EQ(field_of([] { CalibrationOptions{.tolerance = NAN}.validate(); }), "tolerance");
  EXPECT_EQ(field_of([] { (void)fit_platt({}, {}); }), "calibration");
  LinearModel reg(LinearTask::squared, 2);
  const Calibrator c = Calibrator::fit(Tensor({2, 1}, std::vector<float>{0.0f, 1.0f}), std::vector<std::int32_t>{0, 1}, 2);
  EXPECT_EQ(field_of([&] { reg.set_calibrator(c); }), "calibration");
  LinearModel three(LinearTask::softmax, 2, 3);
  EXPECT_EQ(field_of([&] { three.set_calibrator(c); }), "calibration");
}

class TempFile {
 public:
  explicit TempFile(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("adakit_calibrate_test_" + std::to_string(::getpid()) + "_" + name)) {}
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(Calibrate, ModelFilesRoundTripBitForBit) {
  const data::CsrMatrix x = score_rows();
  for (const auto method : {CalibrationMethod::platt, CalibrationMethod::isotonic}) {
    LinearModel m = identity_model();
    m.set_calibrator(Calibrator::fit(decision_function(m, x), kLabels, 3, {.method = method}));
    const Tensor want = predict_proba(m, x);
    for (const char* name : {"m.json", "m.bin"}) {
      TempFile file(name);
      io::save_linear_model(file.path(), m);
      const io::LinearModelFile back = io::read_linear_model(file.path());
      ASSERT_NE(back.model.calibrator(), nullptr) << name;
      EXPECT_EQ(back.model.calibrator()->to_json(), m.calibrator()->to_json()) << name;
      const Tensor got = predict_proba(back.model, x);
      ASSERT_EQ(got.numel(), want.numel());
      for (std::int64_t i = 0; i < got.numel(); ++i) ASSERT_EQ(got.data()[i], want.data()[i]) << name << " at " << i;
    }
    // adakit export's compact file carries it too.
    io::LinearModelFile source;
    source.model = m;
    const io::CompactModel compact = io::compact_model(source, {});
    const io::LinearModelFile back = io::parse_linear_model(io::compact_model_bytes(compact), "compact");
    ASSERT_NE(back.model.calibrator(), nullptr);
    const Tensor got = predict_proba(back.model, x);
    for (std::int64_t i = 0; i < got.numel(); ++i) ASSERT_EQ(got.data()[i], want.data()[i]) << "compact at " << i;
  }
  // A model without one reads as before.
  TempFile plain("plain.bin");
  io::save_linear_model(plain.path(), identity_model());
  EXPECT_EQ(io::read_linear_model(plain.path()).model.calibrator(), nullptr);
}

TEST(Calibrate, MalformedCalibratorIsAnErrorNamingTheField) {
  LinearModel m = identity_model();
  const data::CsrMatrix x = score_rows();
  m.set_calibrator(Calibrator::fit(decision_function(m, x), kLabels, 3, {.method = CalibrationMethod::isotonic}));
  nlohmann::json doc = m.to_json();
  doc["input"] = "libsvm";
  const auto field = [&](const nlohmann::json& cal) {
    nlohmann::json d = doc;
    d["calibration"] = cal;
    return field_of([&] { (void)io::parse_linear_model(d.dump(), "m.json"); });
  };
  const nlohmann::json good = m.calibrator()->to_json();
  EXPECT_EQ(field(good), "(no error)");
  nlohmann::json bad = good;
  bad["method"] = "sigmoidal";
  EXPECT_EQ(field(bad), "calibration.method");
  bad = good;
  bad["classes"] = 4;
  EXPECT_EQ(field(bad), "calibration.columns");  // 4 classes, 3 calibrators
  bad = good;
  bad["columns"][1]["x"] = {2.0, 1.0};
  bad["columns"][1]["y"] = {0.0, 1.0};
  EXPECT_EQ(field(bad), "calibration.columns[1].x");
  bad = good;
  bad["columns"][2]["y"][0] = 1.5;
  EXPECT_EQ(field(bad), "calibration.columns[2].y");
  bad = good;
  bad["columns"] = nlohmann::json::array({{{"x", {0.0}}, {"y", {0.5}}}});
  bad["classes"] = 2;  // a binary calibrator on a 3-class model
  EXPECT_EQ(field(bad), "calibration");
  EXPECT_EQ(field("platt"), "calibration");
}

}  // namespace
}  // namespace adakit::linear
