#include "adakit/serve/server.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/multilabel.hpp"

namespace adakit::serve {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Request bad(std::string_view line, std::string why) {
  Request r;
  r.line = line;
  r.error = std::move(why);
  return r;
}

std::string error_reply(const std::string& message, std::int64_t request) {
  nlohmann::json j = {{"error", message}};
  if (request > 0) j["request"] = request;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool valid_utf8(std::string_view s) { return data::is_valid_utf8(s); }

Request parse_request(std::string_view line, bool text_model) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!valid_utf8(line)) return bad(line, "the request is not valid UTF-8");
  if (line.find('\0') != std::string_view::npos) return bad(line, "the request holds a NUL byte");
  const std::string_view t = trim(line);
  if (t.empty()) return bad(line, "an empty request");
  Request r;
  r.line = line;
  if (t.front() == '!') {
    r.kind = RequestKind::command;
    r.body = t.substr(1);
    return r;
  }
  if (text_model) {
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) {
      r.kind = RequestKind::predict;
      r.body = line;
      return r;
    }
    r.label = trim(line.substr(0, tab));
    r.body = line.substr(tab + 1);
    if (r.label.empty()) return bad(line, "an empty label before the tab (a text to predict has no tab)");
    r.kind = RequestKind::labelled;
    return r;
  }
  const auto end = t.find_first_of(" \t");
  const std::string_view first = t.substr(0, end);
  if (first.find(':') != std::string_view::npos) {
    r.kind = RequestKind::predict;
    r.body = t;
    return r;
  }
  r.kind = RequestKind::labelled;
  r.label = first;
  r.body = end == std::string_view::npos ? std::string_view{} : trim(t.substr(end));
  return r;
}

ModelServer::ModelServer(io::LinearModelFile file, ServerOptions options, std::unique_ptr<linear::LinearOptimizer> fresh)
    : file_(std::move(file)), options_(std::move(options)) {
  if (options_.top_k < 1) throw UsageError("top-k must be >= 1", {"", 0, "top-k"});
  if (!(options_.threshold <= 1.0) || options_.threshold_top_k < 0)
    throw UsageError("threshold must be a probability in [0, 1]", {"", 0, "threshold"});
  if (options_.threshold >= 0.0 && file_.model.task() == linear::LinearTask::squared)
    throw UsageError("a regression model has no classes to choose from", {"", 0, "threshold"});
  if (options_.snapshot_every < 0) throw UsageError("snapshot-every must be >= 0", {"", 0, "snapshot-every"});
  if (options_.snapshot_every > 0 && options_.save.empty())
    throw UsageError("--snapshot-every needs --save FILE (where the snapshots go)", {"", 0, "snapshot-every"});
  if (options_.max_line_bytes < 16) throw UsageError("max-line-bytes must be >= 16", {"", 0, "max-line-bytes"});
  if (file_.predict_only && (options_.learn || !options_.save.empty()))
    throw UsageError(std::string("a compact model of adakit export predicts only: ") +
                         (options_.learn ? "--learn needs the model it was exported from"
                                         : "--save would snapshot its pruned, quantized weights as a full model"),
                     {"", 0, options_.learn ? "learn" : "save"});
  if (!options_.learn) return;
  if (file_.model.calibrator() != nullptr)
    throw UsageError("a calibrated model (adakit train --calibrate) cannot learn: its calibrator was fitted on the "
                     "saved weights, which learning changes",
                     {"", 0, "learn"});
  if (text_model() && file_.model.task() == linear::LinearTask::squared)
    throw UsageError("a text regression model cannot learn", {"", 0, "learn"});
  optimizer_ = file_.optimizer ? std::move(file_.optimizer) : std::move(fresh);
  if (!optimizer_) throw UsageError("--learn needs an optimizer", {"", 0, "learn"});
  optimizer_->bind(file_.model);  // a saved state is bound already; a fresh optimizer starts here
  learner_.emplace(file_.model, *optimizer_, file_.vectorizer ? &*file_.vectorizer : nullptr,
                   linear::OnlineOptions{.batch_size = 1, .grow = options_.grow,
                                         .max_dim = std::max(file_.model.dim(), options_.max_features)});
}

ServerStats ModelServer::stats() const {
  return {counters_.requests.load(), counters_.predictions.load(), counters_.learned.load(), counters_.errors.load(),
          counters_.snapshots.load()};
}

std::string ModelServer::handle(std::string_view line, std::int64_t request) {
  const Request r = parse_request(line, text_model());
  ++counters_.requests;
  try {
    switch (r.kind) {
      case RequestKind::predict: return predict(r, request);
      case RequestKind::labelled: return options_.learn ? learn(r, request) : predict(r, request);
      case RequestKind::command: return command(r, request);
      case RequestKind::error: throw Error(r.error);
    }
  } catch (const Error& e) {
    ++counters_.errors;
    return error_reply(e.what(), request);
  } catch (const std::bad_alloc&) {
    ++counters_.errors;
    return error_reply("out of memory for this request", request);
  }
  return error_reply("unknown request", request);
}

data::CsrMatrix ModelServer::features(std::string_view body) const {
  if (file_.vectorizer) {
    const std::string text(body);
    return file_.vectorizer->transform(std::span<const std::string>(&text, 1));
  }
  data::LibsvmOptions o;
  o.task = data::LibsvmOptions::Task::regression;  // the label is a placeholder
  // Any index reads (as adakit predict): a feature the model does not have carries no weight.
  data::SparseDataset d = data::parse_libsvm("0 " + std::string(body), "request", o);
  data::fit_columns(d.features, file_.model.dim());
  return std::move(d.features);
}

nlohmann::json ModelServer::answer(const data::CsrMatrix& x) const {
  const linear::LinearModel& m = file_.model;
  if (m.task() == linear::LinearTask::squared) return {{"prediction", linear::decision_function(m, x).data()[0]}};
  const Tensor p = linear::predict_proba(m, x);
  const auto k = static_cast<std::size_t>(m.classes());
  const auto name = [&](std::size_t c) { return c < m.class_names().size() ? m.class_names()[c] : std::to_string(c); };
  const auto order = linear::top_classes({p.data(), k}, std::max<std::int64_t>(1, options_.top_k));
  const auto id = [](const linear::ClassProbability& c) { return static_cast<std::size_t>(c.class_id); };
  nlohmann::json j = {{"label", name(id(order[0]))}, {"probability", order[0].probability}};
  if (options_.top_k > 1) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& c : order) top.push_back({{"label", name(id(c))}, {"probability", c.probability}});
    j["top"] = top;
  }
  if (options_.threshold >= 0.0) {
    nlohmann::json labels = nlohmann::json::array();
    const std::int64_t candidates = options_.threshold_top_k > 0 ? options_.threshold_top_k : m.classes();
    for (const auto& c : linear::top_classes({p.data(), k}, candidates, options_.threshold))
      labels.push_back({{"label", name(id(c))}, {"probability", c.probability}});
    j["labels"] = labels;
  }
  if (options_.probabilities) {
    nlohmann::json all = nlohmann::json::object();
    for (std::size_t c = 0; c < k; ++c) all[name(c)] = p.data()[c];
    j["probabilities"] = all;
  }
  return j;
}

std::string ModelServer::predict(const Request& r, std::int64_t) {
  nlohmann::json j;
  const bool refresh = learner_ && optimizer_->lazy();  // stale lazy weights are brought up to date first
  if (refresh) {
    std::unique_lock lock(model_mutex_);
    const data::CsrMatrix x = features(r.body);
    const auto idx = x.row_indices(0);
    const std::vector<std::int64_t> f(idx.begin(), idx.end());
    optimizer_->refresh(file_.model, f);
    j = answer(x);
  } else {
    std::shared_lock lock(model_mutex_);
    j = answer(features(r.body));
  }
  if (r.kind == RequestKind::labelled && j.contains("label"))
    j["correct"] = linear::same_class(j["label"].get<std::string>(), r.label, !text_model());
  ++counters_.predictions;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ModelServer::learn(const Request& r, std::int64_t request) {
  nlohmann::json j;
  bool snap = false;
  {
    std::unique_lock lock(model_mutex_);
    // Nothing changes when the line is bad (examples() checks the label before it grows anything).
    const data::SparseDataset d = learner_->examples(r.line, "request " + std::to_string(request), 1);
    if (d.size() != 1) throw Error("a labelled request is one example");
    check_step_is_finite(d);
    const auto idx = d.features.row_indices(0);
    optimizer_->refresh(file_.model, std::vector<std::int64_t>(idx.begin(), idx.end()));
    j = answer(d.features);
    const linear::FitResult fr = learner_->learn(d);
    j["learned"] = true;
    j["loss"] = fr.history.empty() ? 0.0 : fr.history.back().train.loss;
    const std::int64_t learned = ++counters_.learned;  // under the exclusive lock: counted in order
    snap = options_.snapshot_every > 0 && learned % options_.snapshot_every == 0;
    if (snap) ++counters_.snapshots;
    if (snap) {  // under the exclusive lock: the snapshot holds exactly the examples learnt so far
      std::lock_guard writing(snapshot_mutex_);
      write_snapshot_locked();
    }
  }
  ++counters_.predictions;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A value so large that the step would overflow float32 (a gradient x · dL/dz whose square, AdaGrad's
// accumulator, is not finite) would poison the weights it touches: such an example is refused. dL/dz
// is at most 1 in size for the logistic classifiers, 2 (1 + |z|) for a squared hinge, z − y for regression.
void ModelServer::check_step_is_finite(const data::SparseDataset& d) const {
  const Tensor z = linear::decision_function(file_.model, d.features);
  double dz = 1.0;
  for (std::int64_t c = 0; c < z.numel(); ++c)
    if (!std::isfinite(z.data()[c]))
      throw Error("the example's score is not finite (a value too large to learn from); not learnt");
  if (file_.model.task() == linear::LinearTask::squared) dz = std::abs(static_cast<double>(z.data()[0]) - d.targets[0]);
  if (file_.model.task() == linear::LinearTask::squared_hinge)
    for (std::int64_t c = 0; c < z.numel(); ++c) dz = std::max(dz, 2.0 * (1.0 + std::abs(static_cast<double>(z.data()[c]))));
  for (const float x : d.features.row_values(0))
    if (!(std::abs(static_cast<double>(x)) * dz <= 1e18))
      throw Error("a value of " + std::to_string(x) + " is too large to learn from: the step would overflow float32");
}

std::string ModelServer::oversized(std::int64_t request) {
  ++counters_.requests;
  ++counters_.errors;
  return error_reply("request longer than " + std::to_string(options_.max_line_bytes) + " bytes (--max-line-bytes)", request);
}

void ModelServer::write_snapshot_locked() {
  io::save_linear_model(options_.save, file_.model, file_.vectorizer ? &*file_.vectorizer : nullptr,
                        learner_ ? optimizer_.get() : nullptr, file_.bucket_terms ? &*file_.bucket_terms : nullptr);
}

bool ModelServer::snapshot() {
  if (options_.save.empty()) return false;
  std::shared_lock lock(model_mutex_);  // learners wait; predictions go on
  std::lock_guard writing(snapshot_mutex_);  // one writer of the file at a time
  write_snapshot_locked();
  ++counters_.snapshots;
  return true;
}

std::string ModelServer::command(const Request& r, std::int64_t) {
  if (r.body == "stats") {
    const ServerStats s = stats();
    std::shared_lock lock(model_mutex_);
    nlohmann::json j = {{"requests", s.requests}, {"predictions", s.predictions}, {"learned", s.learned},
                        {"errors", s.errors}, {"snapshots", s.snapshots}, {"features", file_.model.dim()},
                        {"learning", options_.learn}};
    if (learner_) j["steps"] = optimizer_->steps();
    return j.dump();
  }
  if (r.body == "snapshot") {
    if (!snapshot()) throw Error("no snapshot file: start the server with --save FILE");
    return nlohmann::json{{"saved", options_.save.string()}}.dump();
  }
  throw Error("unknown command '!" + std::string(r.body) + "' (commands: !stats, !snapshot)");
}

}  // namespace adakit::serve
