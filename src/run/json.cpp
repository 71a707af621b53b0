#include "adakit/run/json.hpp"

#include "adakit/optim/options.hpp"

namespace adakit::run {

using json = nlohmann::json;

json metrics_json(const Metrics& m) {
  return {{"loss", optim::format_double(m.loss)},
          {"accuracy", optim::format_double(m.accuracy)},
          {"mse", optim::format_double(m.mse)},
          {"samples", m.samples}};
}

json epoch_json(const EpochReport& r, const EpochFields& fields) {
  json e = {{"epoch", r.epoch}, {"epochs", r.epochs}, {"train", metrics_json(r.train)}};
  if (fields.validation) e["validation"] = metrics_json(r.validation);
  if (fields.epoch_seconds) e["epoch_seconds"] = optim::format_double(r.epoch_seconds);
  if (fields.seconds) e["seconds"] = optim::format_double(r.seconds);
  if (fields.skipped_steps) e["skipped_steps"] = r.skipped_steps;
  if (fields.steps) e["steps"] = r.steps;
  return e;
}

json history_json(const std::vector<EpochReport>& history, const EpochFields& fields) {
  json a = json::array();
  for (const auto& e : history) a.push_back(epoch_json(e, fields));
  return a;
}

}  // namespace adakit::run
