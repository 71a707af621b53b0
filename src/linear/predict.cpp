#include "adakit/linear/fit.hpp"

namespace adakit::linear {

run::Predictions predictions(const LinearModel& model, const data::SparseDataView& d, bool probabilities) {
  run::Predictions p;
  p.rows = d.size();
  p.class_names = model.class_names();
  const auto u = [](std::int64_t i) { return static_cast<std::size_t>(i); };
  if (model.task() == LinearTask::squared) {
    p.outputs = decision_function(model, d.features);
    p.outputs.reshape({d.size()});
    if (static_cast<std::int64_t>(d.targets.size()) != d.size() || d.size() == 0) return p;
    double squared_error = 0.0;
    for (std::int64_t i = 0; i < d.size(); ++i) {
      const double e = p.outputs[i] - d.targets[u(i)];
      squared_error += e * e;
    }
    p.mse = squared_error / static_cast<double>(d.size());
    return p;
  }
  p.classes = predict(model, d.features);
  if (probabilities) {
    const Tensor probs = predict_proba(model, d.features);
    p.probabilities.assign(probs.data(), probs.data() + probs.numel());
  }
  if (d.is_classification() && static_cast<std::int64_t>(d.labels.size()) == d.size() && d.size() > 0) {
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < d.size(); ++i) correct += d.labels[u(i)] == p.classes[u(i)] ? 1 : 0;
    p.accuracy = static_cast<double>(correct) / static_cast<double>(d.size());
  }
  return p;
}

}  // namespace adakit::linear
