// The logistic function, the logistic loss and the softmax's log-sum-exp, written once for the losses
// and predictions of nn/ (float tensors) and linear/ (double scores).
//
// The logistic function:
//
//   σ(z) = 1 / (1 + e^{−z}),  evaluated as (z ≥ 0 ? 1 : e) / (1 + e) with e = e^{−|z|} ∈ (0, 1]
//
// so that nothing overflows for any z and σ keeps its relative accuracy where it is tiny (z ≪ 0).
// A caller that also needs log(1 + e^{−|z|}) (the logistic loss) computes e once: sigmoid_from_exp.
// nn's float Sigmoid layer (nn/kernels.hpp, sigmoid_forward) evaluates 1 / (1 + e^{−z}) as
// torch.sigmoid does, elementwise in float; sigmoid_direct is that form for any type.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

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

// The logistic loss of a logit z against a target y in [0, 1], and its derivative in z:
//
//   l(z, y) = max(z, 0) − z·y + log(1 + e^{−|z|}),   dl/dz = σ(z) − y
//
// (binary cross-entropy on logits, as torch.nn.BCEWithLogitsLoss). At the hard targets the margin
// part is written as max(z, 0) (y = 0) and max(−z, 0) (y = 1): the same numbers for every finite z,
// and the right limits (∞ or 0, never ∞ − ∞) for an infinite one.
template <class T>
struct LogisticLoss {
  T loss, grad;
};

template <class T>
inline LogisticLoss<T> logistic_loss(T z, T y) {
  const T e = std::exp(-std::abs(z));  // in (0, 1]: never overflows
  const T margin = y == T(0) ? std::max(z, T(0)) : y == T(1) ? std::max(-z, T(0)) : std::max(z, T(0)) - z * y;
  return {margin + std::log1p(e), sigmoid_from_exp(z, e) - y};
}

// The softmax of scores z (float), shifted by their maximum m so that no exponential overflows:
//
//   softmax_k(z) = e^{z_k − m} / S,   S = Σ_j e^{z_j − m},   log Σ_j e^{z_j} = m + log S
//
// The shift z_k − m is taken in T (float: nn's log_softmax, as torch's; double: linear's scores), the
// exponentials and S in double. −log softmax_label(z) = log_sum_exp() − z_label is the cross-entropy.
template <class T>
struct ShiftedExpSum {
  T max;
  double sum;
  T log_sum_exp() const { return max + static_cast<T>(std::log(sum)); }
  double exp_shifted(float z) const { return std::exp(static_cast<double>(static_cast<T>(z) - max)); }
  double softmax(float z) const { return exp_shifted(z) / sum; }
};

template <class T>
inline ShiftedExpSum<T> shifted_exp_sum(std::span<const float> z) {
  ShiftedExpSum<T> s{-std::numeric_limits<T>::infinity(), 0.0};
  for (float v : z) s.max = std::max(s.max, static_cast<T>(v));
  for (float v : z) s.sum += s.exp_shifted(v);
  return s;
}

}  // namespace adakit
