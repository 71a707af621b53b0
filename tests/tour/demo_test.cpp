// The tour in quick mode: every demo runs for real and its measured result clears a threshold; the
// report links every image it shows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "adakit/data/builtin.hpp"
#include "adakit/data/readers.hpp"
#include "adakit/report/plot.hpp"
#include "adakit/tour/demos.hpp"

namespace {
namespace fs = std::filesystem;
using adakit::tour::DemoOptions;

struct Tour : ::testing::Test {
  static inline nlohmann::json summary;
  static inline fs::path out;
  static void SetUpTestSuite() {
    out = fs::temp_directory_path() / ("adakit_tour_test_" + std::to_string(::getpid()));
    DemoOptions o;
    o.out = out;
    o.quick = true;
    o.seed = 0;
    const std::vector<std::string> all{"all"};
    adakit::tour::run_tour(all, o);
    std::ifstream in(out / "summary.json");
    summary = nlohmann::json::parse(in);
  }
  static void TearDownTestSuite() { fs::remove_all(out); }
  static double num(const std::string& demo, const std::string& key) {
    const auto& d = summary.at(demo);
    if (!d.contains(key) || d.at(key).is_null()) return NAN;
    return d.at(key).get<double>();
  }
};

// The demos that read a dataset the user may not have, written out here (not taken from the demo table):
// only these may report "skipped", and only while that dataset's files are absent. digits and iris are
// bundled; Fashion-MNIST comes from Debian's dataset-fashion-mnist; CIFAR-10 only from the user.
const std::map<std::string, std::string>& optional_data() {
  static const std::map<std::string, std::string> m{{"image-cnn", "fashion-mnist"}};
  return m;
}

// Whether the built-in dataset's files are found (the demos search the default path too: no data_dir).
bool data_present(const std::string& dataset) {
  try {
    (void)adakit::data::load_data({dataset, {}, {}});
    return true;
  } catch (const adakit::data::MissingDataError&) {
    return false;
  }
}

TEST_F(Tour, EveryDemoRanAndOnlyOneWithoutItsDataWasSkipped) {
  int checked = 0;
  for (const auto& d : adakit::tour::demos()) {
    const std::string name(d.name);
    ASSERT_TRUE(summary.contains(name)) << name;
    const auto status = summary.at(name).at("status").get<std::string>();
    const auto optional = optional_data().find(name);
    if (optional != optional_data().end() && !data_present(optional->second)) {
      EXPECT_EQ(status, "skipped") << name;
      EXPECT_NE(summary.at(name).at("skipped").get<std::string>().find(optional->second), std::string::npos) << name;
    } else {
      EXPECT_EQ(status, "ok") << name << ": a demo whose data is present must run";
    }
    ++checked;
  }
  EXPECT_EQ(checked, 13);
  for (const auto& [demo, dataset] : optional_data()) EXPECT_TRUE(summary.contains(demo)) << demo;
}

TEST_F(Tour, BasicsKeepsStateAndConverges) {
  EXPECT_LT(std::abs(num("basics", "final_x_state_kept")), 0.05);
  EXPECT_GT(std::abs(num("basics", "final_x_state_reset")), 0.1);  // the tutorial's reset never settles
}

TEST_F(Tour, MultiParamDrivesEveryTensorToItsTarget) {
  EXPECT_LT(num("multi-param", "final_loss"), 1e-2 * num("multi-param", "initial_loss"));
  EXPECT_LT(num("multi-param", "max_error"), 0.5);
}

TEST_F(Tour, LrAdaptationFollowsTheGradientScale) {
  const double ratio = num("lr-adaptation", "ratio_sigma01_to_sigma10");
  EXPECT_GT(ratio, 50.0);
  EXPECT_LT(ratio, 200.0);
}

TEST_F(Tour, IrisMlpClassifiesEveryTestSample) { EXPECT_EQ(num("iris-mlp", "test_accuracy"), 1.0); }

TEST_F(Tour, AdagradBeatsSgdOnBadlyScaledRegression) {
  EXPECT_LT(num("sgd-vs-adagrad", "adagrad_final_mse"), num("sgd-vs-adagrad", "sgd_final_mse"));
}

TEST_F(Tour, SentimentClassifiesNewSentencesAsExpected) {
  EXPECT_EQ(num("sentiment", "train_accuracy"), 1.0);
  EXPECT_EQ(summary.at("sentiment").at("new_positive_sentence").get<std::string>(), "positive");
  EXPECT_EQ(summary.at("sentiment").at("new_negative_sentence").get<std::string>(), "negative");
}

TEST_F(Tour, DigitsCnnLearns) { EXPECT_GE(num("digits-cnn", "test_accuracy"), 0.95); }

TEST_F(Tour, EveryOptimizerFitsTheRegression) {
  for (const char* k : {"sgd", "adagrad", "adam", "rmsprop", "adadelta"}) {
    const double mse = num("optimizers", std::string(k) + "_final_mse");
    EXPECT_TRUE(std::isfinite(mse)) << k;
    EXPECT_LT(mse, 1.0) << k;
  }
}

TEST_F(Tour, AdagradStepDecaysWhileRmspropLevelsOff) {
  EXPECT_LT(num("lr-decay", "adagrad_step_at_end"), num("lr-decay", "adagrad_step_at_10") / 10.0);
  EXPECT_LT(num("lr-decay", "adagrad_step_at_end"), num("lr-decay", "rmsprop_step_at_end") / 3.0);
}

TEST_F(Tour, ImageCnnLearnsOrIsSkippedWithInstructions) {
  const auto& d = summary.at("image-cnn");
  if (!data_present("fashion-mnist")) {
    EXPECT_EQ(d.at("status"), "skipped");
    EXPECT_NE(d.at("skipped").get<std::string>().find("fashion-mnist"), std::string::npos);
    GTEST_SKIP() << "Fashion-MNIST not installed";
  }
  EXPECT_EQ(d.at("status"), "ok");
  EXPECT_GE(num("image-cnn", "test_accuracy"), 0.6);
}

TEST_F(Tour, CartpoleAgentBalancesThePole) { EXPECT_GE(num("cartpole", "eval_mean_return"), 400.0); }

TEST_F(Tour, EmbeddingsFitTheCountsAndGroupTheSettings) {
  EXPECT_LT(num("embeddings", "final_cost"), 0.05 * num("embeddings", "initial_cost"));
  EXPECT_GE(num("embeddings", "same_setting_fraction_top3"), 0.9);
  auto in_top3 = [&](const std::string& word, const std::string& neighbour) {
    for (const auto& w : summary.at("embeddings").at("nearest_" + word))
      if (w.get<std::string>() == neighbour) return true;
    return false;
  };
  EXPECT_TRUE(in_top3("king", "queen"));
  EXPECT_TRUE(in_top3("man", "woman"));
}

TEST_F(Tour, AdagradAveragesNoiseAway) {
  EXPECT_LT(num("behaviour", "adagrad_mean_abs_theta_last100"), num("behaviour", "sgd_mean_abs_theta_last100"));
}

TEST_F(Tour, ReportShowsEverySectionAndItsImagesExist) {
  std::ifstream in(out / "report.html");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string html = ss.str();
  for (const auto& d : adakit::tour::demos()) EXPECT_NE(html.find("id=\"" + std::string(d.name) + "\""), std::string::npos) << d.name;
  const std::regex img("<img src=\"([^\"]+)\"");
  int images = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), img); it != std::sregex_iterator(); ++it, ++images)
    EXPECT_TRUE(fs::exists(out / (*it)[1].str())) << (*it)[1].str();
  if (adakit::report::gnuplot_available()) {
    EXPECT_GE(images, 10);
  }
}

// Renders report.html in headless Chromium when it is installed: every image loads, no console error.
TEST_F(Tour, ReportRendersInHeadlessChromium) {
  const char* candidates[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
  std::string chromium;
  for (const char* c : candidates)
    if (fs::exists(c)) chromium = c;
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  // A page script counts images that failed to load and writes the verdict into the DOM we dump.
  const fs::path page = out / "check.html";
  {
    std::ifstream in(out / "report.html");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string html = ss.str();
    const std::string probe =
        "<script>window.addEventListener('load',()=>{const imgs=[...document.images];"
        "const bad=imgs.filter(i=>!(i.complete&&i.naturalWidth>0)).length;"
        "document.title='IMAGES '+imgs.length+' BROKEN '+bad;});</script></body>";
    html.replace(html.rfind("</body>"), 7, probe);
    std::ofstream(page) << html;
  }
  const fs::path dump = out / "dom.txt", log = out / "console.txt";
  const std::string cmd = chromium + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--user-data-dir=" + (out / "profile").string() + " --virtual-time-budget=5000 "
                          "--enable-logging=stderr --v=0 --dump-dom file://" + page.string() + " > " + dump.string() +
                          " 2> " + log.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream d(dump);
  std::stringstream ds;
  ds << d.rdbuf();
  std::smatch m;
  const std::string dom = ds.str();
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("IMAGES (\\d+) BROKEN (\\d+)"))) << dom.substr(0, 500);
  EXPECT_GE(std::stoi(m[1].str()), 1);
  EXPECT_EQ(m[2].str(), "0");
  std::ifstream l(log);
  std::stringstream ls;
  ls << l.rdbuf();
  EXPECT_EQ(ls.str().find("CONSOLE"), std::string::npos) << ls.str();
}

// What `adakit demo` prints for a section (no demo run needed).
TEST(TourText, SectionText) {
  adakit::report::Section s;
  s.title = "1. AdaGrad on x²";
  s.status = "ok";
  s.summary = "x converges.";
  s.metrics = {{"final_x", "0.009441"}, {"steps", "100"}};
  EXPECT_EQ(adakit::tour::section_text(s), "== 1. AdaGrad on x² [ok]\nx converges.\n"
                                           "   final_x                          0.009441\n"
                                           "   steps                            100\n");
  s.note = "get the data with make data";
  s.metrics.clear();
  EXPECT_EQ(adakit::tour::section_text(s),
            "== 1. AdaGrad on x² [ok]\nx converges.\n   note: get the data with make data\n");
}

}  // namespace

