// The one callback interface of every training loop, in the manner of ensmallen's callbacks: a
// Callback implements only the hooks it needs, and on_epoch_end returns true to stop training after
// that epoch (the loop finishes the epoch's bookkeeping, then returns as a run that was told to stop).
//
//   struct StopAtLoss : run::Callback {
//     bool on_epoch_end(const run::EpochReport& r) override { return r.train.loss < 0.1; }
//   };
//
// A loop that can be resumed tells its checkpoint writers where it stands through StateCallback<State>
// (train::Callback = StateCallback<train::FitState>). Loops that take a run::Callbacks accept a list
// of Callback pointers or, as a shorthand, one function over the EpochReport (returning bool "stop",
// or nothing).
#pragma once
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "adakit/run/report.hpp"

namespace adakit::run {

struct Callback {
  virtual ~Callback() = default;
  virtual void on_train_begin(std::int64_t /*epochs*/, std::int64_t /*batches_per_epoch*/) {}
  // After each batch that stepped (GloVe: a few times a second, from one worker thread). Progress only.
  virtual void on_batch_end(const BatchReport&) {}
  // Whether on_batch_end does anything now (a loop that measures its batches only for callbacks skips
  // that work when none listens: a progress printer writing plain lines does not).
  virtual bool wants_batches() const { return true; }
  // After each epoch; true stops training.
  virtual bool on_epoch_end(const EpochReport&) { return false; }
  virtual void on_train_end() {}
};

// Where a resumable loop announces its whole position: after a batch, after an epoch's end (the next
// epoch's position) and once more at the end of training. Checkpoint writers hook here.
enum class StatePoint { batch_end, epoch_end, train_end };

template <class State>
struct StateCallback : Callback {
  virtual void on_state(const State& /*state*/, StatePoint /*point*/) {}
};

// A Callback C as a StateCallback<State>, for the loops that take those (train::fit): it holds its own
// C and forwards the four hooks to it (on_state does nothing). train::ProgressPrinter is
// WithState<train::FitState, run::ProgressPrinter>.
template <class State, std::derived_from<Callback> C>
class WithState final : public StateCallback<State> {
 public:
  template <class... Args>
  explicit WithState(Args&&... args) : inner_(std::forward<Args>(args)...) {}
  void on_train_begin(std::int64_t epochs, std::int64_t batches_per_epoch) override {
    inner_.on_train_begin(epochs, batches_per_epoch);
  }
  void on_batch_end(const BatchReport& r) override { inner_.on_batch_end(r); }
  bool wants_batches() const override { return inner_.wants_batches(); }
  bool on_epoch_end(const EpochReport& r) override { return inner_.on_epoch_end(r); }
  void on_train_end() override { inner_.on_train_end(); }
  C& inner() noexcept { return inner_; }

 private:
  C inner_;
};

// The callbacks a loop calls, in order, and the one function of the shorthand (called last).
class Callbacks {
 public:
  Callbacks() = default;
  Callbacks(std::span<Callback* const> list) : list_(list.begin(), list.end()) {}
  Callbacks(const std::vector<Callback*>& list) : list_(list) {}
  // One function of the epoch report: bool(const EpochReport&) (true stops) or void(const EpochReport&).
  template <class F>
    requires(std::invocable<F&, const EpochReport&> && !std::convertible_to<const F&, std::span<Callback* const>>)
  Callbacks(F on_epoch) {
    if constexpr (std::is_constructible_v<bool, const F&> && !std::is_convertible_v<const F&, bool>)
      if (!static_cast<bool>(on_epoch)) return;  // an empty std::function (explicit bool): no callback
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const EpochReport&>>)
      on_epoch_ = [f = std::move(on_epoch)](const EpochReport& r) mutable {
        f(r);
        return false;
      };
    else
      on_epoch_ = [f = std::move(on_epoch)](const EpochReport& r) mutable { return static_cast<bool>(f(r)); };
  }

  bool empty() const noexcept { return list_.empty() && !on_epoch_; }
  // Whether batch_end reaches anyone who wants it (the shorthand function hears epochs only).
  bool hears_batches() const {
    return std::any_of(list_.begin(), list_.end(), [](const Callback* c) { return c->wants_batches(); });
  }
  void train_begin(std::int64_t epochs, std::int64_t batches_per_epoch) const;
  void batch_end(const BatchReport& r) const;
  // Every callback hears the report; true when any asks to stop.
  bool epoch_end(const EpochReport& r) const;
  void train_end() const;

 private:
  std::vector<Callback*> list_;
  std::function<bool(const EpochReport&)> on_epoch_;
};

}  // namespace adakit::run
