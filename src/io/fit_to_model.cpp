#include "adakit/core/error.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/model.hpp"

namespace adakit::io {

void fit_to_model(data::Dataset& d, const ModelInfo& info, const std::string& source) {
  if (d.sample_shape() != info.input_shape) {
    if (d.sample_size() != shape_numel(info.input_shape))
      throw UsageError("the data has samples of shape " + shape_to_string(d.sample_shape()) + ", the model takes " +
                           shape_to_string(info.input_shape),
                       {source, 0, "features"});
    Shape s{d.size()};
    for (auto v : info.input_shape) s.push_back(v);
    d.features.reshape(s);
  }
  if (!info.scaler_mean.empty()) data::StandardScaler{info.scaler_mean, info.scaler_scale}.transform(d);
  if (d.is_classification() && !info.class_names.empty() && d.size() > 0)
    data::align_labels(d.labels, d.class_names, info.class_names, source);
}

}  // namespace adakit::io
