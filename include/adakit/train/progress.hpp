// train::fit's progress printer is the run layer's (run/progress.hpp); the old name stays.
#pragma once
#include "adakit/run/progress.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::train {
using ProgressPrinter = run::ProgressPrinter;
}  // namespace adakit::train
