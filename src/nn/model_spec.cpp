// build_model: the model spec grammar of models.hpp.
#include <algorithm>
#include <cmath>

#include "adakit/core/error.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::nn {
namespace {

std::vector<std::int64_t> parse_sizes(const std::string& text) {
  std::vector<std::int64_t> v;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const double x = optim::parse_double("model", item);
    if (x < 1 || x != std::floor(x) || x > 1e7) throw UsageError("'" + item + "' is not a positive integer", {"", 0, "model"});
    v.push_back(static_cast<std::int64_t>(x));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

std::string_view kind_of(std::string_view spec) { return spec.substr(0, spec.find(':')); }

Sequential build_cnn(const std::string& args, const data::Dataset& train, std::uint64_t seed) {
  if (train.sample_shape().size() != 3)
    throw UsageError("cnn needs image data ([C, H, W] samples); this data has samples of shape " +
                         shape_to_string(train.sample_shape()),
                     {"", 0, "model"});
  if (!train.is_classification()) throw UsageError("cnn is for classification", {"", 0, "model"});
  const std::int64_t classes = train.num_classes();
  const auto s = train.sample_shape();
  if (args.empty()) return s[1] <= 8 ? digits_cnn(s, classes, seed) : image_cnn(s, classes, seed);
  const auto slash = args.find('/');
  const auto channels = parse_sizes(args.substr(0, slash));
  const std::int64_t hidden = slash == std::string::npos ? 0 : parse_sizes(args.substr(slash + 1)).at(0);
  return cnn(s, classes, channels, seed, hidden);
}

}  // namespace

Shape model_input_shape(std::string_view spec, const Shape& sample_shape) {
  if (kind_of(spec) == "cnn") return sample_shape;
  return {shape_numel(sample_shape)};
}

Sequential build_model(std::string_view spec_view, const data::Dataset& train, const ModelOptions& o) {
  const std::string spec(spec_view);
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string args = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const bool classification = train.is_classification();
  const std::int64_t classes = train.num_classes();
  const std::int64_t outputs =
      !classification ? std::max<std::int64_t>(1, train.targets.numel() / std::max<std::int64_t>(1, train.size()))
      : classes == 2  ? 1
                      : classes;
  if (o.dropout != 0.0 && kind != "mlp") throw UsageError("--dropout applies to mlp models", {"", 0, "dropout"});
  if (kind == "cnn") return build_cnn(args, train, o.seed);
  const std::int64_t in = train.sample_size();
  if (kind == "mlp") {
    if (args.empty()) throw UsageError("mlp needs hidden sizes, e.g. mlp:64 or mlp:256,128", {"", 0, "model"});
    return mlp(in, parse_sizes(args), outputs, o.activation, "", o.seed, o.dropout);
  }
  if (kind == "logreg") {
    if (!classification) throw UsageError("logreg is for classification; use linreg", {"", 0, "model"});
    return mlp(in, {}, outputs, o.activation, "", o.seed);
  }
  if (kind == "softmax") {
    if (!classification) throw UsageError("softmax is for classification; use linreg", {"", 0, "model"});
    return mlp(in, {}, classes, o.activation, "", o.seed);
  }
  if (kind == "linreg") {
    if (classification) throw UsageError("linreg is for regression targets; use logreg or softmax", {"", 0, "model"});
    return mlp(in, {}, outputs, o.activation, "", o.seed);
  }
  throw UsageError("unknown model '" + spec + "' (mlp:H[,H...], logreg, softmax, linreg, cnn, cnn:C[,C...][/H])",
                   {"", 0, "model"});
}

}  // namespace adakit::nn
