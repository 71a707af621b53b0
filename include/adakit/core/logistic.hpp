// The logistic function, written once for the losses and predictions of nn/ and linear/:
//
//   σ(z) = 1 / (1 + e^{−z}),  evaluated as (z ≥ 0 ? 1 : e) / (1 + e) with e = e^{−|z|} ∈ (0, 1]
//
// so that nothing overflows for any z and σ keeps its relative accuracy where it is tiny (z ≪ 0).
// A caller that also needs log(1 + e^{−|z|}) (the logistic loss) computes e once: sigmoid_from_exp.
// nn's float Sigmoid layer (nn/kernels.hpp, sigmoid_forward) evaluates 1 / (1 + e^{−z}) as
// torch.sigmoid does, elementwise in float; sigmoid_direct is that form for any type.
#pragma once
#include <cmath>

namespace adakit {

// σ(z) from z and e = e^{−|z|}.
template <class T>
inline T sigmoid_from_exp(T z, T e) {
  return (z >= T(0) ? T(1) : e) / (T(1) + e);
}

// e^{−|z|} taken as e^{−z} or e^{z} (the same for every number; a NaN keeps its sign).
template <class T>
inline T sigmoid(T z) {
  return sigmoid_from_exp(z, std::exp(z >= T(0) ? -z : z));
}

// σ(z) = 1 / (1 + e^{−z}) as written: no overflow harm (e^{−z} = inf gives 0), but for z < 0 it may
// differ from sigmoid() in the last bit (about 8% of float inputs, in double). The probabilities of
// train::predictions (adakit predict on a binary nn model) use it, so printed digits stay as they were.
template <class T>
inline T sigmoid_direct(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

}  // namespace adakit
