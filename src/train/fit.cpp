#include "adakit/train/fit.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <numeric>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/optim/clip.hpp"

namespace adakit::train {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The batch buffers: features of the chosen rows, their labels, and float targets for BCE / MSE.
struct Batch {
  Tensor x, targets;
  std::vector<std::int32_t> labels;
  Tensor grad;  // d loss / d output
};

void gather(const data::Dataset& d, std::span<const std::int64_t> rows, Objective obj, const Shape& out_sample,
            Batch& b) {
  const auto B = static_cast<std::int64_t>(rows.size());
  Shape xs{B};
  for (auto s : d.sample_shape()) xs.push_back(s);
  if (b.x.shape() != xs) b.x = Tensor(xs);
  const std::int64_t row = d.sample_size();
  const float* src = d.features.data();
  float* dst = b.x.data();
  for (std::int64_t i = 0; i < B; ++i)
    std::copy_n(src + rows[static_cast<std::size_t>(i)] * row, row, dst + i * row);
  if (obj == Objective::mse) {
    Shape ts{B};
    for (auto s : out_sample) ts.push_back(s);
    if (b.targets.shape() != ts) b.targets = Tensor(ts);
    const std::int64_t k = shape_numel(out_sample);
    if (d.targets.numel() != d.size() * k)
      throw UsageError("the model has " + std::to_string(k) + " outputs but the dataset has " +
                       std::to_string(d.size() > 0 ? d.targets.numel() / d.size() : 0) + " targets per sample");
    for (std::int64_t i = 0; i < B; ++i)
      std::copy_n(d.targets.data() + rows[static_cast<std::size_t>(i)] * k, k, b.targets.data() + i * k);
    return;
  }
  b.labels.resize(static_cast<std::size_t>(B));
  for (std::int64_t i = 0; i < B; ++i) b.labels[static_cast<std::size_t>(i)] = d.labels[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])];
  if (obj == Objective::binary_logistic) {
    Shape ts{B};
    for (auto s : out_sample) ts.push_back(s);
    if (b.targets.shape() != ts) b.targets = Tensor(ts);
    for (std::int64_t i = 0; i < B; ++i) b.targets[i] = static_cast<float>(b.labels[static_cast<std::size_t>(i)]);
  }
}

// Loss of the batch and its gradient; `correct` gets the number of right predictions (classification).
// `class_weights` (training only; empty: the plain mean): the class-weighted mean of nn/loss.hpp.
double batch_loss(const Tensor& out, Objective obj, Batch& b, std::int64_t& correct,
                  std::span<const float> class_weights = {}) {
  switch (obj) {
    case Objective::softmax_ce: {
      const double l = class_weights.empty() ? nn::softmax_cross_entropy_loss(out, b.labels, b.grad)
                                             : nn::softmax_cross_entropy_loss(out, b.labels, b.grad, class_weights);
      correct = nn::count_correct(out, b.labels);
      return l;
    }
    case Objective::binary_logistic: {
      const double l = class_weights.empty() ? nn::bce_with_logits_loss(out, b.targets, b.grad)
                                             : nn::bce_with_logits_loss(out, b.targets, b.grad, class_weights);
      correct = nn::count_correct(out, b.labels);
      return l;
    }
    case Objective::mse: correct = 0; return nn::mse_loss(out, b.targets, b.grad);
  }
  return kNaN;
}

Shape output_sample_shape(const nn::Sequential& model, const data::Dataset& d) {
  return model.output_shape(d.sample_shape());
}

bool grads_finite(std::span<Parameter* const> params) {
  return std::isfinite(optim::global_grad_norm(params));
}

}  // namespace

std::string_view to_string(Objective o) {
  switch (o) {
    case Objective::softmax_ce: return "softmax_ce";
    case Objective::binary_logistic: return "binary_logistic";
    case Objective::mse: return "mse";
  }
  return "";
}

Objective objective_from_string(std::string_view s) {
  if (s == "softmax_ce") return Objective::softmax_ce;
  if (s == "binary_logistic") return Objective::binary_logistic;
  if (s == "mse") return Objective::mse;
  throw UsageError("unknown objective '" + std::string(s) + "' (softmax_ce, binary_logistic, mse)", {"", 0, "objective"});
}

Objective pick_objective(const data::Dataset& d, std::int64_t outputs) {
  if (!d.is_classification()) return Objective::mse;
  const std::int64_t classes = d.num_classes();
  if (outputs == 1 && classes <= 2) return Objective::binary_logistic;
  if (outputs == classes && classes >= 2) return Objective::softmax_ce;
  throw UsageError("the model has " + std::to_string(outputs) + " outputs but the data has " +
                   std::to_string(classes) + " classes (use 1 output for 2 classes, or one per class)");
}

Metrics evaluate(nn::Sequential& model, const data::Dataset& d, Objective obj, std::int64_t batch_size) {
  Metrics m;
  if (d.size() == 0) return m;
  const Shape out_sample = output_sample_shape(model, d);
  Batch b;
  std::vector<std::int64_t> rows;
  double loss_sum = 0.0;
  std::int64_t correct_sum = 0;
  for (std::int64_t start = 0; start < d.size(); start += batch_size) {
    const std::int64_t end = std::min(d.size(), start + batch_size);
    rows.resize(static_cast<std::size_t>(end - start));
    std::iota(rows.begin(), rows.end(), start);
    gather(d, rows, obj, out_sample, b);
    const Tensor& out = model.forward(b.x, false);
    std::int64_t correct = 0;
    loss_sum += batch_loss(out, obj, b, correct) * static_cast<double>(end - start);
    correct_sum += correct;
  }
  m.samples = d.size();
  m.loss = loss_sum / static_cast<double>(d.size());
  if (obj == Objective::mse) m.mse = m.loss;
  else m.accuracy = static_cast<double>(correct_sum) / static_cast<double>(d.size());
  return m;
}

namespace {

// A resumed state must describe this run.
void check_resume(const FitState& st, std::int64_t n, std::int64_t batches, std::size_t num_params) {
  const auto bad = [](const std::string& what) {
    throw Error("cannot resume: " + what, {"", 0, "resume"});
  };
  if (st.samples != n || st.batches_per_epoch != batches)
    bad("the saved run had " + std::to_string(st.samples) + " training samples in " +
        std::to_string(st.batches_per_epoch) + " batches per epoch, this one has " + std::to_string(n) + " in " +
        std::to_string(batches) + " (same data, split and batch size needed)");
  if (st.epoch < 1 || st.batch < 0 || st.batch > batches)
    bad("position epoch " + std::to_string(st.epoch) + ", batch " + std::to_string(st.batch) + " is outside the run");
  if (!st.best_weights.empty() && st.best_weights.size() != num_params)
    bad("the saved best weights do not match the model's " + std::to_string(num_params) + " parameters");
  if (st.result.history.size() != static_cast<std::size_t>(st.result.epochs_run) ||
      st.result.epochs_run != st.epoch - 1)
    bad("the saved history (" + std::to_string(st.result.history.size()) + " epochs) does not end before epoch " +
        std::to_string(st.epoch));
}

// One replica's part of the global batch order[start, end): forward and backward on its rows, the loss
// gradient scaled by its share, then the replicas' reduce. Sets the batch's mean loss and correct count
// over all replicas; returns whether loss and gradient are finite.
bool replica_batch(nn::Sequential& model, optim::Optimizer& opt, Replicas& replicas, const data::Dataset& train,
                   std::span<const std::int64_t> order, std::int64_t start, std::int64_t end, Objective obj,
                   const Shape& out_sample, Batch& b, double& loss, std::int64_t& correct) {
  const std::int64_t count = end - start, k = replicas.size(), r = replicas.rank();
  const std::int64_t lo = start + count * r / k, hi = start + count * (r + 1) / k;
  opt.zero_grad();
  std::array<double, 3> totals{0.0, 0.0, 0.0};
  if (hi > lo) {
    gather(train, order.subspan(static_cast<std::size_t>(lo), static_cast<std::size_t>(hi - lo)), obj, out_sample, b);
    const Tensor& out = model.forward(b.x, true);
    std::int64_t mine = 0;
    const double local = batch_loss(out, obj, b, mine);
    // The loss is the mean over this replica's rows; the batch's loss is the mean over all of them.
    if (hi - lo != count) optim::scale_values(b.grad.span(), static_cast<float>(static_cast<double>(hi - lo) / static_cast<double>(count)));
    model.backward(b.grad);
    totals = {local * static_cast<double>(hi - lo), static_cast<double>(mine), static_cast<double>(hi - lo)};
  }
  const bool finite = replicas.reduce(totals);
  loss = totals[0] / totals[2];
  correct = static_cast<std::int64_t>(totals[1]);
  return finite && std::isfinite(loss);
}

void shuffled_order(Rng& rng, bool shuffle, std::vector<std::int64_t>& order) {
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return;
  const auto n = static_cast<std::int64_t>(order.size());
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(i + 1)))]);
}

}  // namespace

FitResult fit(nn::Sequential& model, optim::Optimizer& opt, const data::Dataset& train,
              const data::Dataset* validation, Objective obj, const FitOptions& o,
              std::span<Callback* const> callbacks, const FitState* resume) {
  if (o.epochs < 0) throw UsageError("epochs must be >= 0", {"", 0, "epochs"});
  if (o.batch_size < 1) throw UsageError("batch size must be >= 1", {"", 0, "batch_size"});
  if (o.patience < 0) throw UsageError("patience must be >= 0", {"", 0, "patience"});
  if (train.size() == 0) throw UsageError("the training set is empty");
  if (!o.class_weights.empty()) {
    if (obj == Objective::mse)
      throw UsageError("class weights apply to classification, the objective is mse", {"", 0, "class_weight"});
    const std::int64_t classes = obj == Objective::binary_logistic ? 2 : train.num_classes();
    if (static_cast<std::int64_t>(o.class_weights.size()) != classes)
      throw UsageError(std::to_string(o.class_weights.size()) + " class weights for " + std::to_string(classes) + " classes",
                       {"", 0, "class_weight"});
    for (const float w : o.class_weights)
      if (!std::isfinite(w) || w < 0.0f)
        throw UsageError("class weight " + std::to_string(w) + " is not a finite number >= 0", {"", 0, "class_weight"});
    if (o.replicas != nullptr)
      throw UsageError("class weights are not supported with data-parallel replicas yet", {"", 0, "class_weight"});
  }
  const Shape out_sample = output_sample_shape(model, train);
  const auto params = model.parameters();
  const std::int64_t n = train.size();
  const std::int64_t batches = (n + o.batch_size - 1) / o.batch_size;
  FitState st;
  if (resume != nullptr) {
    check_resume(*resume, n, batches, params.size());
    st = *resume;
  } else {
    st.samples = n;
    st.batches_per_epoch = batches;
    st.shuffle_rng = Rng(o.seed).state();
  }
  FitResult& result = st.result;
  Rng rng;
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  Batch b;
  const double seconds_before = result.seconds;
  const auto t0 = Clock::now();
  const auto elapsed = [&] { return seconds_before + since(t0); };
  const auto notify = [&](StatePoint point) {
    result.seconds = elapsed();
    for (auto* cb : callbacks) cb->on_state(st, point);
  };
  for (auto* cb : callbacks) cb->on_train_begin(o.epochs, batches);
  while (!st.stopped && st.epoch <= o.epochs) {
    const std::int64_t epoch = st.epoch;
    const auto te = Clock::now();
    rng.set_state(st.shuffle_rng);
    shuffled_order(rng, o.shuffle, order);
    for (std::int64_t bi = st.batch; bi < batches; ++bi) {
      const std::int64_t start = bi * o.batch_size, end = std::min(n, start + o.batch_size);
      std::int64_t correct = 0;
      double loss = 0.0;
      bool finite = true;
      if (o.replicas == nullptr) {
        gather(train, std::span<const std::int64_t>(order).subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)),
               obj, out_sample, b);
        const Tensor& out = model.forward(b.x, true);
        loss = batch_loss(out, obj, b, correct, o.class_weights);
        opt.zero_grad();
        model.backward(b.grad);
        // Checked before opt.step(): clipping and the optimizer's state never see a non-finite value.
        finite = std::isfinite(loss) && grads_finite(params);
      } else {
        finite = replica_batch(model, opt, *o.replicas, train, order, start, end, obj, out_sample, b, loss, correct);
      }
      if (!finite) {
        if (o.on_nonfinite == NonFinite::error)
          throw Error("non-finite " + std::string(std::isfinite(loss) ? "gradient" : "loss") + " at epoch " +
                      std::to_string(epoch) + ", batch " + std::to_string(bi + 1) +
                      " (lower the learning rate, clip gradients, or use --on-nonfinite skip)");
        ++st.skipped;
        ++result.skipped_steps;
      } else {
        if (o.replicas != nullptr) o.replicas->step(opt);
        else opt.step();
        const auto count = end - start;
        st.loss_sum += loss * static_cast<double>(count);
        st.correct_sum += correct;
        st.seen += count;
        const BatchReport br{epoch, o.epochs, bi + 1, batches, loss, elapsed()};
        for (auto* cb : callbacks) cb->on_batch_end(br);
      }
      st.batch = bi + 1;
      notify(StatePoint::batch_end);
    }
    EpochReport er{epoch, o.epochs, {}, {}, 0.0, 0.0, st.skipped};
    er.train.samples = st.seen;
    if (st.seen > 0) {
      er.train.loss = st.loss_sum / static_cast<double>(st.seen);
      if (obj == Objective::mse) er.train.mse = er.train.loss;
      else er.train.accuracy = static_cast<double>(st.correct_sum) / static_cast<double>(st.seen);
    }
    if (validation != nullptr && validation->size() > 0) er.validation = evaluate(model, *validation, obj);
    er.epoch_seconds = since(te);
    er.seconds = elapsed();
    result.history.push_back(er);
    result.epochs_run = epoch;
    bool stop = false;
    for (auto* cb : callbacks) stop = cb->on_epoch_end(er) || stop;
    if (o.patience > 0) {
      const double watched = std::isnan(er.validation.loss) ? er.train.loss : er.validation.loss;
      if (watched < st.best - o.min_delta) {
        st.best = watched;
        st.since_best = 0;
        result.best_epoch = epoch;
        if (o.restore_best) {
          st.best_weights.clear();
          for (auto* p : params) st.best_weights.push_back(p->value());
        }
      } else if (++st.since_best >= o.patience) {
        result.stopped_early = true;
        stop = true;
      }
    } else {
      result.best_epoch = epoch;
    }
    // The next epoch starts where this one's permutation left the Rng.
    st.epoch = epoch + 1;
    st.batch = 0;
    st.shuffle_rng = rng.state();
    st.loss_sum = 0.0;
    st.correct_sum = st.seen = st.skipped = 0;
    st.stopped = stop;
    notify(StatePoint::epoch_end);
  }
  if (result.stopped_early && o.restore_best && !st.best_weights.empty())
    for (std::size_t i = 0; i < params.size(); ++i) params[i]->value() = st.best_weights[i];
  notify(StatePoint::train_end);
  for (auto* cb : callbacks) cb->on_train_end();
  return result;
}

Tensor predict_outputs(nn::Sequential& model, const data::Dataset& d, std::int64_t batch_size) {
  const Shape out_sample = model.output_shape(d.sample_shape());
  const std::int64_t k = shape_numel(out_sample);
  Tensor out({d.size(), k});
  Batch b;
  for (std::int64_t start = 0; start < d.size(); start += batch_size) {
    const std::int64_t end = std::min(d.size(), start + batch_size);
    Shape xs{end - start};
    for (auto s : d.sample_shape()) xs.push_back(s);
    if (b.x.shape() != xs) b.x = Tensor(xs);
    const std::int64_t row = d.sample_size();
    std::copy_n(d.features.data() + start * row, (end - start) * row, b.x.data());
    const Tensor& y = model.forward(b.x, false);
    std::copy_n(y.data(), (end - start) * k, out.data() + start * k);
  }
  return out;
}

std::vector<std::int32_t> predict(nn::Sequential& model, const data::Dataset& d, std::int64_t batch_size) {
  Tensor out = predict_outputs(model, d, batch_size);
  return nn::predict_classes(out);
}

}  // namespace adakit::train
