// adakit: adaptive-gradient learning in C++. The umbrella header; finer headers live beside it.
#pragma once

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/optim/adadelta.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/adam.hpp"
#include "adakit/optim/clip.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/optim/rmsprop.hpp"
#include "adakit/optim/schedule.hpp"
#include "adakit/optim/sgd.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/train/fit.hpp"
#include "adakit/train/minimize.hpp"
#include "adakit/train/progress.hpp"

namespace adakit {
inline constexpr const char* version = "0.1.0";
}
