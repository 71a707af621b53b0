// The tour's demos. Each one runs the real thing with the library (optimizers, nn, data, train) and
// reports only what it measured.
#include "adakit/tour/demos.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/text.hpp"
#include "adakit/embed/cooccur.hpp"
#include "adakit/embed/glove.hpp"
#include "adakit/embed/vectors.hpp"
#include "adakit/embed/vocab.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/report/plot.hpp"
#include "adakit/rl/agents.hpp"
#include "adakit/rl/env.hpp"
#include "adakit/rl/loop.hpp"
#include "adakit/rl/recipes.hpp"
#include "adakit/rl/tiles.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::tour {
namespace fs = std::filesystem;
using report::PlotSpec;
using report::Series;

namespace {

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Draws a plot into <out>/<demo>/ and adds the image (or the reason there is none) to the section.
void plot(DemoResult& r, const DemoOptions& o, const std::string& demo, const std::string& stem, const PlotSpec& spec) {
  const auto files = report::write_plot(spec, o.out / demo, stem);
  if (!files.png.empty()) r.section.images.push_back(fs::path(demo) / files.png.filename());
  if (!files.message.empty()) r.section.note = files.message;
}

DemoResult start(const std::string& id, const std::string& title) {
  DemoResult r;
  r.section.id = id;
  r.section.title = title;
  r.section.status = "ok";
  return r;
}

void metric(DemoResult& r, const std::string& key, double v, const char* f = "%.4g") {
  r.section.metrics.emplace_back(key, fmt(v, f));
  r.summary[key] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::vector<double> steps_axis(std::size_t n, double first = 1.0) {
  std::vector<double> x(n);
  std::iota(x.begin(), x.end(), first);
  return x;
}

// 1. AdaGrad on x² from x0 = 5.3 with lr 1, the state kept across steps — and, for contrast, the
// tutorial's version that creates a fresh accumulator at every call.
DemoResult demo_basics(const DemoOptions& o) {
  auto r = start("basics", "1. AdaGrad on x² (state kept across steps)");
  const int steps = 60;
  auto run = [&](bool reset_each_step, std::vector<double>& xs, std::vector<double>& lrs) {
    Parameter x("x", Tensor::from({1}, {5.3f}));
    const optim::AdagradOptions opts{.lr = 1.0};
    optim::Adagrad opt({&x}, opts);
    for (int t = 0; t < steps; ++t) {
      if (reset_each_step) opt.reset();  // the tutorial's bug: a new accumulator every call
      x.grad()[0] = 2.0f * x.value()[0];
      opt.step();
      const float s = opt.state(x)->buffer("sum")->data()[0];
      xs.push_back(std::abs(static_cast<double>(x.value()[0])));
      lrs.push_back(optim::adagrad_effective_lr(opts, s));
    }
    return static_cast<double>(x.value()[0]);
  };
  std::vector<double> xk, lk, xr, lr;
  const double kept = run(false, xk, lk), reset = run(true, xr, lr);
  const auto t = steps_axis(steps);
  plot(r, o, "basics", "x", {"AdaGrad on f(x) = x^2 from x0 = 5.3, lr 1", "step", "|x|", false, true,
                              {{"state kept (adakit)", t, xk}, {"state reset every call (tutorial)", t, xr}}});
  plot(r, o, "basics", "effective_lr", {"effective learning rate lr / (sqrt(s) + eps)", "step", "lr_eff", false, true,
                                        {{"state kept", t, lk}, {"state reset every call", t, lr}}});
  metric(r, "final_x_state_kept", kept);
  metric(r, "final_x_state_reset", reset);
  r.section.summary = "With the accumulator kept, AdaGrad's steps shrink as s grows and x converges to 0 (final x = " +
                      fmt(kept) + "). Resetting it at every call, as the tutorial's code does, makes every step lr·sign(g): "
                      "x bounces around 0 for ever (final x = " + fmt(reset) + ").";
  return r;
}

// 2. One optimizer over tensors of several shapes.
DemoResult demo_multi_param(const DemoOptions& o) {
  auto r = start("multi-param", "2. One optimizer over several tensors");
  Rng rng(o.seed + 2);
  std::vector<Shape> shapes{{3, 4}, {4}, {2, 2, 2}};
  std::vector<std::unique_ptr<Parameter>> params;
  std::vector<Tensor> targets;
  std::vector<Parameter*> ptrs;
  const char* names[] = {"weight", "bias", "kernel"};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    Tensor v(shapes[i]), t(shapes[i]);
    rng.fill_normal(v.span(), 0.0, 1.0);
    rng.fill_normal(t.span(), 0.0, 3.0);
    params.push_back(std::make_unique<Parameter>(names[i], std::move(v)));
    targets.push_back(std::move(t));
    ptrs.push_back(params.back().get());
  }
  optim::Adagrad opt(ptrs, optim::AdagradOptions{.lr = 0.5});
  const int steps = o.quick ? 200 : 400;
  std::vector<double> loss;
  for (int s = 0; s < steps; ++s) {
    double l = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& p = *params[i];
      for (std::int64_t k = 0; k < p.numel(); ++k) {
        const float d = p.value()[k] - targets[i][k];
        p.grad()[k] = d;
        l += 0.5 * d * d;
      }
    }
    loss.push_back(l);
    opt.step();
  }
  plot(r, o, "multi-param", "loss", {"sum of 0.5 ||theta_i - target_i||^2 over three tensors", "step", "loss", false, true,
                                     {{"adagrad lr 0.5", steps_axis(loss.size()), loss}}});
  double worst = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    double e = 0;
    for (std::int64_t k = 0; k < params[i]->numel(); ++k) e = std::max(e, std::abs(static_cast<double>(params[i]->value()[k] - targets[i][k])));
    metric(r, std::string("max_error_") + names[i], e);
    worst = std::max(worst, e);
  }
  metric(r, "initial_loss", loss.front());
  metric(r, "final_loss", loss.back());
  r.summary["max_error"] = worst;
  r.section.summary = "Tensors of shapes [3,4], [4] and [2,2,2] share one AdaGrad optimizer; each keeps its own "
                      "accumulator, keyed by parameter id. Loss " + fmt(loss.front()) + " → " + fmt(loss.back()) + ".";
  return r;
}

// 3. The effective learning rate lr/(√s+eps) of three coordinates with gradient scales 0.1, 1, 10.
DemoResult demo_lr_adaptation(const DemoOptions& o) {
  auto r = start("lr-adaptation", "3. How the per-coordinate learning rate adapts");
  Rng rng(o.seed + 3);
  const int steps = 1000;
  const std::array<double, 3> scale{0.1, 1.0, 10.0};
  Tensor p({3}, 0.0f), g({3}), s({3}, 0.0f);
  std::array<std::vector<double>, 3> eff;
  const optim::AdagradOptions opts{.lr = 0.1};
  for (int t = 1; t <= steps; ++t) {
    for (int i = 0; i < 3; ++i) g[i] = static_cast<float>(rng.normal(0.0, scale[static_cast<std::size_t>(i)]));
    optim::adagrad_step(p.span(), g.span(), s.span(), opts, t);
    for (int i = 0; i < 3; ++i) eff[static_cast<std::size_t>(i)].push_back(optim::adagrad_effective_lr(opts, s[i]));
  }
  const auto t = steps_axis(steps);
  plot(r, o, "lr-adaptation", "effective_lr", {"lr / (sqrt(s) + eps) for gradients of scale 0.1, 1, 10 (lr 0.1)", "step",
                                               "effective lr", true, true,
                                               {{"sigma 0.1", t, eff[0]}, {"sigma 1", t, eff[1]}, {"sigma 10", t, eff[2]}}});
  for (int i = 0; i < 3; ++i) {
    const double measured = eff[static_cast<std::size_t>(i)].back();
    metric(r, "final_lr_sigma_" + fmt(scale[static_cast<std::size_t>(i)]), measured);
  }
  // Expected at step T: lr / (sigma sqrt(T)).
  metric(r, "ratio_sigma01_to_sigma10", eff[0].back() / eff[2].back());
  r.section.summary = "Coordinates with large gradients get small steps and rare or small ones large steps: after " +
                      std::to_string(steps) + " random gradients the effective rates differ by a factor of " +
                      fmt(eff[0].back() / eff[2].back()) + " (≈ 100 = the ratio of the gradient scales), each falling like 1/sqrt(t).";
  return r;
}

// Loss/accuracy curves of a fit() history.
void history_plots(DemoResult& r, const DemoOptions& o, const std::string& demo, const train::FitResult& fr, bool accuracy) {
  std::vector<double> e, tl, vl, ta, va;
  for (const auto& h : fr.history) {
    e.push_back(static_cast<double>(h.epoch));
    tl.push_back(h.train.loss);
    vl.push_back(h.validation.loss);
    ta.push_back(h.train.accuracy);
    va.push_back(h.validation.accuracy);
  }
  plot(r, o, demo, "loss", {"loss per epoch", "epoch", "loss", false, true, {{"train", e, tl}, {"test", e, vl}}});
  if (accuracy) plot(r, o, demo, "accuracy", {"accuracy per epoch", "epoch", "accuracy", false, false, {{"train", e, ta}, {"test", e, va}}});
}

// 4. The tutorial's 4-5-1 tanh/sigmoid MLP on the first two iris classes, AdaGrad lr 0.01.
DemoResult demo_iris_mlp(const DemoOptions& o) {
  auto r = start("iris-mlp", "4. MLP 4-5-1 (tanh, sigmoid) on two iris classes");
  auto loaded = data::load_data({"iris-binary", o.data_dir, {}});
  auto split = data::train_test_split(loaded.train, 0.2, o.seed + 1);
  data::StandardScaler sc;
  sc.fit(split.train);
  sc.transform(split.train);
  sc.transform(split.test);
  auto model = nn::mlp(4, {5}, 1, "tanh", "", o.seed + 1);
  optim::Adagrad opt(model.parameters(), optim::AdagradOptions{.lr = 0.01});
  const auto fr = train::fit(model, opt, split.train, &split.test, train::Objective::binary_logistic,
                             {.epochs = 100, .batch_size = 16, .seed = o.seed + 1});
  history_plots(r, o, "iris-mlp", fr, true);
  const auto te = train::evaluate(model, split.test, train::Objective::binary_logistic);
  metric(r, "test_accuracy", te.accuracy);
  metric(r, "test_loss", te.loss);
  metric(r, "seconds", fr.seconds);
  r.section.summary = "Setosa vs versicolor, 80 training / 20 test samples, standard-scaled on the training split, "
                      "binary cross-entropy on the sigmoid output (computed from the logit), AdaGrad lr 0.01, "
                      "100 epochs: test accuracy " + fmt(te.accuracy) + ".";
  return r;
}

// A regression problem whose features have very different scales: where per-coordinate steps help.
data::Dataset regression_data(std::uint64_t seed) {
  data::Dataset d;
  d.name = "synthetic-regression";
  const std::int64_t n = 256, k = 5;
  d.features = Tensor({n, k});
  d.targets = Tensor({n, 1});
  Rng rng(seed);
  const double scales[k] = {0.1, 0.5, 1.0, 3.0, 10.0};
  const double w[k] = {3.0, -2.0, 1.0, 0.5, -0.2};
  for (std::int64_t i = 0; i < n; ++i) {
    double y = 1.0;
    for (std::int64_t j = 0; j < k; ++j) {
      const double x = rng.normal(0.0, scales[j]);
      d.features[i * k + j] = static_cast<float>(x);
      y += w[j] * x;
    }
    d.targets[i] = static_cast<float>(y + rng.normal(0.0, 0.1));
  }
  return d;
}

std::vector<double> regression_curve(const data::Dataset& d, const std::string& opt_name, const optim::OptionMap& opts,
                                     std::int64_t epochs, std::uint64_t seed) {
  auto model = nn::mlp(d.sample_size(), {}, 1, "relu", "", seed);
  auto opt = optim::make_optimizer(opt_name, model.parameters(), opts);
  const auto fr = train::fit(model, *opt, d, nullptr, train::Objective::mse, {.epochs = epochs, .batch_size = 16, .seed = seed});
  std::vector<double> curve;
  for (const auto& h : fr.history) curve.push_back(h.train.loss);
  return curve;
}

// 5. Linear regression, SGD vs AdaGrad.
DemoResult demo_sgd_vs_adagrad(const DemoOptions& o) {
  auto r = start("sgd-vs-adagrad", "5. Linear regression: SGD vs AdaGrad");
  const auto d = regression_data(o.seed + 5);
  const std::int64_t epochs = o.quick ? 30 : 60;
  // SGD's lr is the largest stable one for the largest feature scale (10): larger diverges.
  const auto sgd = regression_curve(d, "sgd", {{"lr", "0.004"}}, epochs, o.seed);
  const auto ada = regression_curve(d, "adagrad", {{"lr", "0.5"}}, epochs, o.seed);
  const auto e = steps_axis(static_cast<std::size_t>(epochs));
  plot(r, o, "sgd-vs-adagrad", "loss", {"linear regression, features of scale 0.1 .. 10", "epoch", "mean squared error", false, true,
                                        {{"sgd lr 0.004", e, sgd}, {"adagrad lr 0.5", e, ada}}});
  metric(r, "sgd_final_mse", sgd.back());
  metric(r, "adagrad_final_mse", ada.back());
  r.section.summary = "Features with scales from 0.1 to 10: one global SGD step must suit the largest scale, so the "
                      "small-scale weights learn slowly (final mse " + fmt(sgd.back()) + "); AdaGrad scales each "
                      "coordinate's step by its own gradient history (final mse " + fmt(ada.back()) + ").";
  return r;
}

// 6. Bag-of-words logistic regression on the tutorial's six sentences, then a new sentence.
DemoResult demo_sentiment(const DemoOptions& o) {
  auto r = start("sentiment", "6. Bag-of-words sentiment with logistic regression");
  const auto text = data::load_text_builtin("sentiment-tiny", o.data_dir);
  data::TextVectorizer vec;  // counts of lower-cased words of 2+ characters (scikit-learn's CountVectorizer)
  data::SparseDataset d;
  d.name = text.name;
  d.features = vec.fit_transform(text.texts);
  d.labels = text.labels;
  d.class_names = text.class_names;
  auto model = linear::LinearModel::for_dataset(d);
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  std::vector<double> epochs, losses;
  linear::fit(model, *opt, d, {.epochs = 50, .batch_size = 1, .seed = o.seed + 6}, [&](const linear::EpochReport& e) {
    epochs.push_back(static_cast<double>(e.epoch));
    losses.push_back(e.train.loss);
    return false;
  });
  plot(r, o, "sentiment", "loss", {"log loss on the six sentences (AdaGrad lr 0.5, one sentence a step)", "epoch", "loss",
                                   false, true, {{"train", epochs, losses}}});
  const auto train = linear::evaluate(model, d);
  const std::vector<std::string> fresh{"This movie was great, I love it", "What a terrible, awful film"};
  const auto x = vec.transform(fresh);
  const auto proba = linear::predict_proba(model, x);
  const auto labels = linear::predict(model, x);
  std::size_t pos = 0;
  for (std::size_t c = 0; c < d.class_names.size(); ++c) if (d.class_names[c] == "positive") pos = c;
  metric(r, "train_accuracy", train.accuracy);
  metric(r, "vocabulary", static_cast<double>(vec.num_features()), "%.0f");
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const std::string key = i == 0 ? "new_positive_sentence" : "new_negative_sentence";
    r.section.metrics.emplace_back(key, "\"" + fresh[i] + "\" -> " + d.class_names[static_cast<std::size_t>(labels[i])] +
                                             " (p(positive) = " + fmt(proba[static_cast<std::int64_t>(i * d.class_names.size() + pos)]) + ")");
    r.summary[key] = d.class_names[static_cast<std::size_t>(labels[i])];
  }
  r.section.summary = "Six labelled sentences, a " + std::to_string(vec.num_features()) + "-word vocabulary, logistic "
                      "regression trained with lazy sparse AdaGrad (only the words of each sentence are touched). "
                      "Two sentences it never saw are classified from their words.";
  return r;
}

// 7. The ConvNet on the 8x8 digits.
DemoResult demo_digits_cnn(const DemoOptions& o) {
  auto r = start("digits-cnn", "7. ConvNet on the 8x8 digits");
  auto loaded = data::load_data({"digits", o.data_dir, {}});
  auto split = data::train_test_split(loaded.train, 0.2, o.seed + 7);
  auto model = nn::digits_cnn(split.train.sample_shape(), split.train.num_classes(), o.seed + 7);
  optim::Adagrad opt(model.parameters(), optim::AdagradOptions{.lr = 0.05});
  const std::int64_t epochs = o.quick ? 8 : 20;
  const auto fr = train::fit(model, opt, split.train, &split.test, train::Objective::softmax_ce,
                             {.epochs = epochs, .batch_size = 32, .seed = o.seed + 7});
  history_plots(r, o, "digits-cnn", fr, true);
  const auto te = train::evaluate(model, split.test, train::Objective::softmax_ce);
  metric(r, "test_accuracy", te.accuracy);
  metric(r, "epochs", static_cast<double>(epochs), "%.0f");
  metric(r, "seconds", fr.seconds);
  r.section.summary = "Conv 3x3 (16 channels, padding 1) + ReLU + max-pool 2 + dense, softmax cross-entropy, AdaGrad lr 0.05, "
                      "real gradients through the convolution: test accuracy " + fmt(te.accuracy) + " after " +
                      std::to_string(epochs) + " epochs (" + fmt(fr.seconds, "%.2f") + " s).";
  return r;
}

// 8. SGD, AdaGrad, Adam, RMSProp, Adadelta on the same regression.
DemoResult demo_optimizers(const DemoOptions& o) {
  auto r = start("optimizers", "8. SGD vs AdaGrad vs Adam vs RMSProp vs Adadelta");
  const auto d = regression_data(o.seed + 8);
  const std::int64_t epochs = o.quick ? 30 : 60;
  const std::vector<std::pair<std::string, optim::OptionMap>> runs{
      {"sgd", {{"lr", "0.004"}}}, {"adagrad", {{"lr", "0.5"}}}, {"adam", {{"lr", "0.05"}}},
      {"rmsprop", {{"lr", "0.01"}}}, {"adadelta", {{"lr", "1.0"}}}};
  PlotSpec spec{"linear regression, features of scale 0.1 .. 10", "epoch", "mean squared error", false, true, {}};
  const auto e = steps_axis(static_cast<std::size_t>(epochs));
  for (const auto& [name, opts] : runs) {
    const auto c = regression_curve(d, name, opts, epochs, o.seed);
    spec.series.push_back({name + " lr " + opts.at("lr"), e, c});
    metric(r, name + "_final_mse", c.back());
  }
  plot(r, o, "optimizers", "loss", spec);
  r.section.summary = "The same model, data, batches and seed for every optimizer; only the update rule differs. "
                      "Final training mse per optimizer in the table.";
  return r;
}

// 9. AdaGrad's shrinking step against RMSProp / Adadelta, under gradients of constant size.
DemoResult demo_lr_decay(const DemoOptions& o) {
  auto r = start("lr-decay", "9. AdaGrad's decaying step, and the fix");
  Rng rng(o.seed + 9);
  const int steps = o.quick ? 3000 : 10000;
  const std::vector<std::pair<std::string, optim::OptionMap>> runs{
      {"adagrad", {{"lr", "0.1"}}}, {"rmsprop", {{"lr", "0.01"}}}, {"adadelta", {{"lr", "1.0"}}}};
  PlotSpec spec{"step size |delta theta| under gradients of size 1 (random sign)", "step", "step size", true, true, {}};
  std::vector<float> signs(static_cast<std::size_t>(steps));
  for (auto& s : signs) s = rng.bernoulli(0.5) ? 1.0f : -1.0f;
  for (const auto& [name, opts] : runs) {
    Parameter p("theta", Tensor({1}, 0.0f));
    auto opt = optim::make_optimizer(name, {&p}, opts);
    std::vector<double> step_size;
    for (int t = 0; t < steps; ++t) {
      const float before = p.value()[0];
      p.grad()[0] = signs[static_cast<std::size_t>(t)];
      opt->step();
      step_size.push_back(std::abs(static_cast<double>(p.value()[0] - before)));
    }
    spec.series.push_back({name, steps_axis(step_size.size()), step_size});
    metric(r, name + "_step_at_10", step_size[9]);
    metric(r, name + "_step_at_end", step_size.back());
  }
  plot(r, o, "lr-decay", "step_size", spec);
  r.section.summary = "AdaGrad divides by the root of the SUM of squared gradients, so its step falls like lr/sqrt(t) "
                      "for ever — good for sparse, convex problems, too timid for long non-stationary training. RMSProp "
                      "and Adadelta use a decaying AVERAGE instead, so their step size levels off.";
  return r;
}

// 10. The tutorial's image CNN (two conv+pool blocks) on Fashion-MNIST, with real gradients.
DemoResult demo_image_cnn(const DemoOptions& o) {
  auto r = start("image-cnn", "10. Image CNN on Fashion-MNIST");
  data::LoadedData loaded;
  try {
    loaded = data::load_data({"fashion-mnist", o.data_dir, {}});
  } catch (const data::MissingDataError& e) {
    r.section.status = "skipped";
    r.section.note = e.what();
    r.section.summary = "Fashion-MNIST is not installed.";
    r.summary["skipped"] = e.what();
    return r;
  }
  // A seeded subset keeps the tour in seconds; `adakit train --data fashion-mnist --model cnn` trains on all of it.
  const std::int64_t n_train = o.quick ? 2000 : 10000, n_test = o.quick ? 1000 : 2000;
  Rng rng(o.seed + 10);
  auto pick = [&](const data::Dataset& d, std::int64_t n) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(d.size()));
    std::iota(rows.begin(), rows.end(), 0);
    for (std::int64_t i = 0; i < n; ++i)
      std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(d.size() - i))))]);
    rows.resize(static_cast<std::size_t>(n));
    return d.subset(rows);
  };
  auto train_set = pick(loaded.train, n_train);
  auto test_set = pick(*loaded.test, n_test);
  auto model = nn::image_cnn(train_set.sample_shape(), train_set.num_classes(), o.seed + 10);
  optim::Adagrad opt(model.parameters(), optim::AdagradOptions{.lr = 0.05});
  const std::int64_t epochs = 2;
  const auto fr = train::fit(model, opt, train_set, &test_set, train::Objective::softmax_ce,
                             {.epochs = epochs, .batch_size = 64, .seed = o.seed + 10});
  history_plots(r, o, "image-cnn", fr, true);
  const auto te = train::evaluate(model, test_set, train::Objective::softmax_ce);
  metric(r, "test_accuracy", te.accuracy);
  metric(r, "train_samples", static_cast<double>(n_train), "%.0f");
  metric(r, "seconds", fr.seconds);
  r.section.summary = "conv(32) + pool, conv(64) + pool, dense 128, dense 10; AdaGrad lr 0.05 on " + std::to_string(n_train) +
                      " training images for " + std::to_string(epochs) + " epochs: test accuracy " + fmt(te.accuracy) +
                      ". The tutorial's CIFAR code fed random numbers as gradients; these come from backpropagation "
                      "through both convolutions.";
  return r;
}

// 11. Q-learning on CartPole: linear Q over tile-coded features, AdaGrad per feature.
DemoResult demo_cartpole(const DemoOptions& o) {
  auto r = start("cartpole", "11. Q-learning on CartPole with AdaGrad");
  const auto& info = rl::find_env("cartpole");
  const auto& recipe = rl::recipe_for("cartpole");
  auto env = rl::make_env("cartpole");
  rl::TileCoderOptions tc;
  tc.low = info.feature_low;
  tc.high = info.feature_high;
  tc.tilings = recipe.tilings;
  tc.tiles = recipe.tiles;
  rl::AgentOptions ao;
  ao.gamma = recipe.gamma;
  ao.optimizer = "adagrad";
  ao.optimizer_options = {{"lr", optim::format_double(recipe.adagrad_lr)}};
  ao.seed = o.seed;
  rl::LinearAgent agent(std::make_unique<rl::TileCoder>(tc), env->num_actions(), ao);
  rl::TrainOptions to;
  to.episodes = recipe.episodes;
  to.seed = o.seed;
  to.epsilon = recipe.epsilon;
  to.solved_return = info.solved_return;
  const auto tr = rl::train(*env, agent, to);
  const auto ev = rl::evaluate(*env, agent, o.quick ? 20 : 100, o.seed + 1000);
  std::vector<double> ep, ret, mean;
  for (const auto& e : tr.episodes) {
    ep.push_back(static_cast<double>(e.episode));
    ret.push_back(e.ret);
    mean.push_back(e.mean_window);
  }
  plot(r, o, "cartpole", "learning_curve", {"CartPole-v1: return per training episode", "episode", "return", false, false,
                                            {{"return", ep, ret}, {"mean of the last 100", ep, mean}}});
  metric(r, "eval_mean_return", ev.mean);
  metric(r, "eval_episodes", static_cast<double>(ev.returns.size()), "%.0f");
  metric(r, "episodes_to_solve", tr.episodes_to_solve ? static_cast<double>(*tr.episodes_to_solve) : NAN, "%.0f");
  metric(r, "seconds", tr.seconds);
  r.section.summary = "The tutorial's table indexed by a continuous state cannot exist; here " + std::to_string(recipe.tilings) +
                      " offset tilings turn the state into sparse binary features, and AdaGrad adapts each feature's step "
                      "on the TD error. Greedy evaluation: mean return " + fmt(ev.mean) + " of 500 over " +
                      std::to_string(ev.returns.size()) + " fresh episodes.";
  return r;
}

// 12. Word embeddings: the tutorial's toy, trained with the real GloVe objective and GloVe's AdaGrad.
DemoResult demo_embeddings(const DemoOptions& o) {
  auto r = start("embeddings", "12. Word embeddings with GloVe and AdaGrad");
  // Eight words in two settings. Each line names a person and two things, each thing from the person's
  // setting with probability 0.8: words of one setting share their contexts.
  const std::array<std::array<const char*, 2>, 2> people{{{"king", "queen"}, {"man", "woman"}}};
  const std::array<std::array<const char*, 2>, 2> things{{{"crown", "palace"}, {"car", "street"}}};
  Rng rng(o.seed + 12);
  std::string corpus;
  const int lines = 200;
  for (int i = 0; i < lines; ++i) {
    const auto s = static_cast<std::size_t>(i % 2);
    corpus += people[s][rng.below(2)];
    for (int k = 0; k < 2; ++k) {
      const auto setting = rng.bernoulli(0.8) ? s : 1 - s;
      corpus += std::string(" ") + things[setting][rng.below(2)];
    }
    corpus += "\n";
  }
  const auto vocab = embed::count_vocabulary_text(corpus, {});
  embed::CooccurOptions co;
  co.window = 3;  // the whole line
  co.memory_gb = 0.01;
  const auto records = embed::count_cooccurrences_text(corpus, vocab, co);
  embed::GloveOptions go;
  go.vector_size = 4;  // fewer unknowns than each word has contexts: the counts pin the vectors down
  go.iterations = o.quick ? 150 : 300;
  go.x_max = 10;
  go.threads = 1;
  go.seed = o.seed;
  auto model = embed::init_glove(vocab.size(), go);
  const auto res = embed::train_glove(model, records, go);
  std::vector<double> cost;
  for (const auto& h : res.history) cost.push_back(h.cost);
  plot(r, o, "embeddings", "cost", {"GloVe cost per iteration (mean of 1/2 f(X) (w.w~ + b + b~ - log X)^2)", "iteration",
                                    "cost", false, true, {{"AdaGrad, glove.c's convention", steps_axis(cost.size()), cost}}});
  const auto vectors = embed::word_vectors(model, vocab, embed::VectorsModel::sum);

  auto setting_of = [&](const std::string& w) {
    for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t k = 0; k < 2; ++k)
        if (w == people[s][k] || w == things[s][k]) return s;
    return std::size_t{9};
  };
  int same = 0, total = 0;
  for (const auto& w : vocab.words()) {
    const auto n = embed::nearest(vectors, w, 3);
    std::string text;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& x : n) {
      text += (text.empty() ? "" : ", ") + x.word + " " + fmt(x.similarity, "%.3f");
      list.push_back(x.word);
      same += setting_of(x.word) == setting_of(w) ? 1 : 0;
      ++total;
    }
    r.section.metrics.emplace_back("nearest to " + w, text);
    r.summary["nearest_" + w] = list;
  }
  metric(r, "initial_cost", cost.front());
  metric(r, "final_cost", cost.back());
  metric(r, "same_setting_fraction_top3", static_cast<double>(same) / total);
  metric(r, "cooccurrence_records", static_cast<double>(records.size()), "%.0f");
  r.section.summary =
      "The tutorial's embedding loss was a toy; this is GloVe (Pennington et al. 2014): J = Σ f(X_ij)(w_i·w̃_j + b_i + "
      "b̃_j − log X_ij)² over the nonzero co-occurrence counts of " + std::to_string(lines) + " lines built from 8 words, "
      "trained with GloVe's AdaGrad (one nonzero at a time, shuffled, accumulators from 1). Cost " + fmt(cost.front()) +
      " → " + fmt(cost.back()) + " in " + std::to_string(cost.size()) + " iterations; " +
      fmt(100.0 * same / total, "%.0f") + "% of each word's three nearest neighbours (cosine) come from its own setting. "
      "The same trainer reads and writes the GloVe tools' files: adakit embed all --corpus FILE --out DIR.";
  return r;
}

// 13. Trajectories and effective learning rates under noisy gradients.
DemoResult demo_behaviour(const DemoOptions& o) {
  auto r = start("behaviour", "13. Behaviour under noisy gradients");
  Rng noise_rng(o.seed + 13);
  const int steps = o.quick ? 300 : 1000;
  std::vector<float> noise(static_cast<std::size_t>(steps));
  for (auto& v : noise) v = static_cast<float>(noise_rng.normal(0.0, 1.0));
  const std::vector<std::pair<std::string, optim::OptionMap>> runs{
      {"sgd", {{"lr", "0.05"}}}, {"adagrad", {{"lr", "0.5"}}}, {"adam", {{"lr", "0.05"}}}};
  PlotSpec traj{"theta under noisy gradients of f = theta^2 / 2 (noise sd 1), from theta = 4", "step", "theta", false, false, {}};
  PlotSpec eff{"effective learning rate |delta theta / g|", "step", "lr_eff", false, true, {}};
  for (const auto& [name, opts] : runs) {
    Parameter p("theta", Tensor({1}, 4.0f));
    auto opt = optim::make_optimizer(name, {&p}, opts);
    std::vector<double> th, lr;
    double tail = 0;
    for (int t = 0; t < steps; ++t) {
      const float before = p.value()[0];
      const float g = before + noise[static_cast<std::size_t>(t)];
      p.grad()[0] = g;
      opt->step();
      th.push_back(p.value()[0]);
      lr.push_back(g != 0.0f ? std::abs(static_cast<double>(p.value()[0] - before) / g) : NAN);
      if (t >= steps - 100) tail += std::abs(static_cast<double>(p.value()[0]));
    }
    traj.series.push_back({name, steps_axis(th.size()), th});
    eff.series.push_back({name, steps_axis(lr.size()), lr});
    metric(r, name + "_mean_abs_theta_last100", tail / 100.0);
  }
  plot(r, o, "behaviour", "trajectory", traj);
  plot(r, o, "behaviour", "effective_lr", eff);
  r.section.summary = "With a fixed lr, SGD and Adam keep jittering around the minimum at a level set by the noise; "
                      "AdaGrad's shrinking rate averages the noise away (mean |theta| over the last 100 steps in the table).";
  return r;
}

constexpr auto kDemos = std::to_array<DemoInfo>({
    {"basics", "AdaGrad on x^2, state kept", &demo_basics},
    {"multi-param", "one optimizer, several tensors", &demo_multi_param},
    {"lr-adaptation", "per-coordinate effective learning rate", &demo_lr_adaptation},
    {"iris-mlp", "4-5-1 MLP on two iris classes", &demo_iris_mlp},
    {"sgd-vs-adagrad", "linear regression, SGD vs AdaGrad", &demo_sgd_vs_adagrad},
    {"sentiment", "bag-of-words logistic regression on six sentences", &demo_sentiment},
    {"digits-cnn", "ConvNet on the 8x8 digits", &demo_digits_cnn},
    {"optimizers", "SGD, AdaGrad, Adam, RMSProp, Adadelta on regression", &demo_optimizers},
    {"lr-decay", "AdaGrad's decaying step vs RMSProp / Adadelta", &demo_lr_decay},
    {"image-cnn", "CNN on Fashion-MNIST", &demo_image_cnn},
    {"cartpole", "Q-learning with AdaGrad on CartPole", &demo_cartpole},
    {"embeddings", "GloVe word vectors on a toy corpus, nearest neighbours", &demo_embeddings},
    {"behaviour", "trajectories under noisy gradients", &demo_behaviour},
});
static_assert(kDemos.size() == 13, "a new demo needs its test (tests/tour/demo_test.cpp) and docs");
constexpr Registry<DemoInfo> kRegistry{kDemos, {"unknown demo '{name}' ({names}, all)", "demo"}};
static_assert(kRegistry.names_are_unique(), "two demos share a name");

}  // namespace

std::span<const DemoInfo> demos() { return kDemos; }

const DemoInfo& find_demo(std::string_view name) { return kRegistry.at(name); }

std::string section_text(const report::Section& s) {
  std::string text = "== " + s.title + " [" + s.status + "]\n" + s.summary + "\n";
  for (const auto& [k, v] : s.metrics) text += format_printf("   %-32s %s\n", k.c_str(), v.c_str());
  if (!s.note.empty()) text += "   note: " + s.note + "\n";
  return text;
}

TourResult run_tour(std::span<const std::string> names, const DemoOptions& options,
                    const std::function<void(const DemoResult&)>& on_done) {
  std::vector<const DemoInfo*> chosen;
  for (const auto& n : names) {
    if (n == "all") {
      for (const auto& d : kDemos) chosen.push_back(&d);
    } else {
      chosen.push_back(&find_demo(n));
    }
  }
  fs::create_directories(options.out);
  TourResult tr;
  nlohmann::json summary = nlohmann::json::object();
  std::vector<report::Section> sections;
  for (const auto* d : chosen) {
    const auto t0 = std::chrono::steady_clock::now();
    DemoResult r = d->run(options);
    r.summary["seconds_total"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.summary["status"] = r.section.status;
    summary[std::string(d->name)] = r.summary;
    sections.push_back(r.section);
    if (on_done) on_done(r);
    tr.results.push_back(std::move(r));
  }
  io::write_file_atomic(options.out / "summary.json", summary.dump(2) + "\n");
  tr.report = options.out / "report.html";
  report::write_html_report(tr.report, "adakit: the AdaGrad tour",
                            "Every section of the AdaGrad tutorial, run for real with adakit. Every number below was "
                            "measured in this run (seed " + std::to_string(options.seed) + (options.quick ? ", quick mode" : "") + ").",
                            sections);
  return tr;
}

}  // namespace adakit::tour
