// libFuzzer target: data::parse_libsvm on arbitrary text, auto task, fixed n_features and multilabel
// (1,3,5 label sets), and the writer's round trip on what parses (rows, values, label:weight importance
// weights, label sets).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/data/libsvm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  adakit::data::LibsvmOptions options[3];
  options[0].max_index = std::int64_t{1} << 27;
  options[1].n_features = 64;
  options[1].task = adakit::data::LibsvmOptions::Task::regression;
  options[2].multilabel = true;
  for (const auto& o : options) {
    try {
      const auto d = adakit::data::parse_libsvm(text, "fuzz", o);
      // What reads must write and read back to the same rows.
      const auto again = adakit::data::parse_libsvm(adakit::data::to_libsvm(d), "fuzz-again", o);
      if (again.features.rows != d.features.rows || again.features.values != d.features.values ||
          again.weights != d.weights || again.label_sets.ids != d.label_sets.ids ||
          again.label_sets.offsets != d.label_sets.offsets)
        std::abort();
    } catch (const adakit::Error&) {
    }
  }
  return 0;
}
