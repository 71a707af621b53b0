// Learning-rate schedules: a factor that multiplies every group's lr at optimizer step t (t >= 1).
// They compose with every optimizer (Optax-style): the optimizer scales a copy of its options, the
// kernels never see a schedule. Formulas, with u = t - 1 and v = max(0, u - warmup_steps):
//   warmup       w = min(1, (u + 1) / warmup_steps)      (linear warm-up, 1 when warmup_steps = 0)
//   constant     f = 1
//   step         f = gamma ^ floor(v / step_size)          (torch StepLR)
//   exponential  f = gamma ^ v                             (torch ExponentialLR)
//   cosine       f = final + (1 - final) (1 + cos(pi min(v, T) / T)) / 2   (Loshchilov & Hutter 2017)
//   linear       f = 1 - (1 - final) min(v, T) / T
// and the lr used is lr * w * f.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace adakit::optim {

struct Schedule {
  enum class Kind { constant, step, exponential, cosine, linear };
  Kind kind = Kind::constant;
  double gamma = 0.1;               // step, exponential
  std::int64_t step_size = 100;     // step
  std::int64_t total_steps = 1000;  // cosine, linear: T
  double final_factor = 0.0;        // cosine, linear
  std::int64_t warmup_steps = 0;

  double factor(std::int64_t step) const;
  void validate() const;
  // "constant" | "step:size=100,gamma=0.5" | "exponential:gamma=0.99" | "cosine:total=1000,final=0"
  // | "linear:total=1000" ; any of them may add ",warmup=N". UsageError on a bad spec.
  static Schedule parse(std::string_view spec);
  std::string to_string() const;
};

}  // namespace adakit::optim
