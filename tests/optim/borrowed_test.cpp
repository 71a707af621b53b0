// Optimizers over borrowed memory (Tensor::borrow: what the Python bindings hand them): every
// registry optimizer steps a parameter whose value and gradient live in someone else's arrays,
// writes only there, and gives bit for bit the trajectory of the same optimizer over owned tensors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/registry.hpp"

namespace {

using adakit::Parameter;
using adakit::Tensor;
using namespace adakit::optim;

TEST(BorrowedParameters, EveryOptimizerMatchesOwnedTensorsBitForBit) {
  for (const auto& info : optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    const std::int64_t n = 1000;  // unaligned views: the arrays below start 4 bytes in
    std::vector<float> value_memory(static_cast<std::size_t>(n) + 1), grad_memory(static_cast<std::size_t>(n) + 1);
    adakit::Rng rng(7);
    for (auto& v : value_memory) v = static_cast<float>(rng.uniform() - 0.5);
    Parameter owned("w", Tensor({n}, std::span<const float>(value_memory.data() + 1, static_cast<std::size_t>(n))));
    Parameter borrowed("w", Tensor::borrow({n}, value_memory.data() + 1), Tensor::borrow({n}, grad_memory.data() + 1));
    auto a = make_optimizer(info.name, {&owned});
    auto b = make_optimizer(info.name, {&borrowed});
    for (int step = 0; step < 5; ++step) {
      for (std::int64_t i = 0; i < n; ++i) {
        const auto g = static_cast<float>(rng.uniform() - 0.5);
        owned.grad()[i] = g;
        grad_memory[static_cast<std::size_t>(i) + 1] = g;
      }
      a->step();
      b->step();
    }
    EXPECT_EQ(borrowed.value().data(), value_memory.data() + 1);  // stepped in place, never reallocated
    for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(value_memory[static_cast<std::size_t>(i) + 1], owned.value()[i]) << i;
  }
}

}  // namespace
