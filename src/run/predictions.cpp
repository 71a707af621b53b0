#include "adakit/run/predictions.hpp"

namespace adakit::run {

nlohmann::json prediction_rows(const Predictions& p) {
  nlohmann::json rows = nlohmann::json::array();
  const std::int64_t k = p.outputs.shape().size() == 2 ? p.outputs.shape()[1] : 1;
  const std::int64_t c = p.rows > 0 ? static_cast<std::int64_t>(p.probabilities.size()) / p.rows : 0;
  for (std::int64_t i = 0; i < p.rows; ++i) {
    nlohmann::json r = {{"index", i}};
    if (p.classes.empty()) {
      if (p.outputs.shape().size() == 2)
        r["prediction"] = std::vector<float>(p.outputs.data() + i * k, p.outputs.data() + (i + 1) * k);
      else
        r["prediction"] = p.outputs[i];
    } else {
      const auto u = static_cast<std::size_t>(p.classes[static_cast<std::size_t>(i)]);
      r["class"] = p.classes[static_cast<std::size_t>(i)];
      if (u < p.class_names.size()) r["label"] = p.class_names[u];
      if (c > 0) r["probabilities"] = std::vector<double>(p.probabilities.begin() + i * c, p.probabilities.begin() + (i + 1) * c);
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace adakit::run
