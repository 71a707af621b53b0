// train::fit's progress printer is the run layer's (run/progress.hpp), as a train::Callback so that
// fit() hears it beside the checkpoint writers.
#pragma once
#include "adakit/run/callback.hpp"
#include "adakit/run/progress.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::train {
using ProgressPrinter = run::WithState<FitState, run::ProgressPrinter>;
}  // namespace adakit::train
