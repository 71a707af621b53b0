#include <algorithm>

#include "adakit/core/logistic.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::train {

run::Predictions predictions(nn::Sequential& model, const data::Dataset& d, Objective objective,
                             const std::vector<std::string>& class_names, bool probabilities) {
  run::Predictions p;
  p.rows = d.size();
  p.class_names = class_names;
  p.outputs = predict_outputs(model, d);
  const std::int64_t k = p.outputs.numel() / std::max<std::int64_t>(1, d.size());
  if (objective == Objective::mse) {
    p.outputs.reshape({d.size(), k});
    return p;
  }
  p.classes = nn::predict_classes(p.outputs);
  Tensor probs;
  if (probabilities && objective == Objective::softmax_ce) nn::softmax(p.outputs, probs);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const auto u = static_cast<std::size_t>(i);
    if (probabilities && objective == Objective::binary_logistic) {
      const double p1 = sigmoid_direct(static_cast<double>(p.outputs[i]));
      p.probabilities.insert(p.probabilities.end(), {1.0 - p1, p1});
    } else if (probabilities) {
      p.probabilities.insert(p.probabilities.end(), probs.data() + i * k, probs.data() + (i + 1) * k);
    }
    if (d.is_classification() && u < d.labels.size()) correct += d.labels[u] == p.classes[u] ? 1 : 0;
  }
  if (d.is_classification() && !d.labels.empty()) p.accuracy = static_cast<double>(correct) / static_cast<double>(d.size());
  p.outputs = Tensor();
  return p;
}

}  // namespace adakit::train
