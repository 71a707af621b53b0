// GloVe: Pennington, Socher & Manning, "GloVe: Global Vectors for Word Representation", EMNLP 2014.
//
//   J = Σ_{X_ij > 0} f(X_ij) (w_i·w̃_j + b_i + b̃_j − log X_ij)²,   f(x) = min(1, (x / x_max)^alpha)
//
// trained by AdaGrad (Duchi, Hazan & Singer 2011) one nonzero X_ij at a time, in shuffled order,
// Hogwild-style (Niu et al. 2011: threads update shared parameters without locks) over contiguous
// slices of the records, exactly as the reference trainer (stanfordnlp/GloVe src/glove.c) does.
//
// One record, with diff = w_i·w̃_j + b_i + b̃_j − log X_ij and fd = f(X_ij)·diff; the cost reported per
// iteration is the mean over records of ½ f diff², each term taken before its record's update:
//
//   convention reference (glove.c; the default), accumulators start at 1:
//     for each k:  u = eta · clip(fd · w̃_jk),  ũ = eta · clip(fd · w_ik)      clip to [-grad_clip, grad_clip]
//                  w_ik -= u / √G_ik,  w̃_jk -= ũ / √G̃_jk                     (both from the old w, w̃)
//                  G_ik += u²,  G̃_jk += ũ²                                      (after the step)
//     biases:      b_i -= fd / √G_bi,  b̃_j -= fd / √G̃_bj,  G_bi += fd², G̃_bj += fd²
//     — the biases get neither eta nor the clip, as in glove.c since its clipping change (upstream
//     pull request 209 proposes adding both). Note that the accumulator sums (eta·g)², so this is
//     adakit's "glove" AdaGrad convention (optim/adagrad.hpp) with lr 1 applied to eta·g.
//
//   convention standard (adakit's AdaGrad, PyTorch's semantics), accumulators start at
//   initial_accumulator (default 0), every parameter (vectors and biases) alike:
//     g = clip(∂J_ij/∂θ) (fd·w̃_jk, fd·w_ik, fd, fd),  G += g²,  θ -= eta · g / (√G + eps)
//   which is optim::adagrad_step with lr = eta after an elementwise gradient clip.
//
// Both: a record whose diff is not finite is skipped; a vector update with a non-finite component is
// dropped, and a non-finite bias update is replaced by 0 (glove.c's NaN guards). Parameters and
// accumulators are float64, as in glove.c.
//
// Parameter layout (also the reference's binary file, vectors.bin): 2·V rows of d+1 values, word row
// i (0-based) = [w_i (d values), b_i] at i·(d+1), context row j at (V + j)·(d+1).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/embed/cooccur.hpp"
#include "adakit/run/callback.hpp"

namespace adakit::embed {

enum class GloveConvention { reference, standard };
std::string_view to_string(GloveConvention c);
GloveConvention glove_convention_from_string(std::string_view name);  // UsageError for another name

// Order of the records: shuffled once before training (the reference pipeline: shuffle, then glove),
// reshuffled before every iteration, or as given (a file already shuffled).
enum class ShuffleMode { once, epoch, none };
std::string_view to_string(ShuffleMode m);
ShuffleMode shuffle_mode_from_string(std::string_view name);

// The update rule alone (what glove_step needs).
struct GloveStepOptions {
  GloveConvention convention = GloveConvention::reference;
  double eta = 0.05;
  double grad_clip = 100.0;  // 0 = no clipping
  double eps = 1e-10;        // standard convention only (outside the root)
};

struct GloveOptions {
  std::int32_t vector_size = 50;
  std::int32_t iterations = 25;
  double x_max = 100.0;
  double alpha = 0.75;
  GloveStepOptions step;
  // Initial accumulator value; unset = the convention's (reference 1, standard 0).
  std::optional<double> initial_accumulator;
  ShuffleMode shuffle = ShuffleMode::once;
  std::uint64_t seed = 0;   // initial parameters and shuffling
  std::int32_t threads = 0; // 0 = adakit::num_threads()
  void validate() const;    // UsageError naming the field
  double accumulator_start() const;
};

struct GloveModel {
  std::int64_t vocab_size = 0;
  std::int64_t dim = 0;          // d, without the bias
  std::vector<double> params;    // 2 V (d + 1), the layout above
  std::vector<double> gradsq;    // same layout: AdaGrad's accumulators

  std::int64_t row_size() const { return dim + 1; }
  std::span<double> word_row(std::int64_t i) { return {params.data() + i * row_size(), static_cast<std::size_t>(row_size())}; }
  std::span<double> context_row(std::int64_t j) {
    return {params.data() + (vocab_size + j) * row_size(), static_cast<std::size_t>(row_size())};
  }
  std::span<const double> word_row(std::int64_t i) const {
    return {params.data() + i * row_size(), static_cast<std::size_t>(row_size())};
  }
  std::span<const double> context_row(std::int64_t j) const {
    return {params.data() + (vocab_size + j) * row_size(), static_cast<std::size_t>(row_size())};
  }
};

// Parameters uniform in [-0.5, 0.5) / d (glove.c's initialisation, with adakit's seeded Rng), biases
// included; accumulators at options.accumulator_start().
GloveModel init_glove(std::int64_t vocab_size, const GloveOptions& options);

// The weighting function f(x) = min(1, (x / x_max)^alpha), computed as glove.c does (1 when x > x_max).
double glove_weight(double x, double x_max, double alpha);

// One record's update (the formulas above) on a word row w and a context row c (d + 1 values each,
// bias last) and their accumulators. weight = f(X_ij). Returns ½ f diff², or NaN when the record was
// skipped (non-finite diff). This is the kernel the trainer runs.
double glove_step(std::span<double> w, std::span<double> c, std::span<double> gw, std::span<double> gc,
                  double log_x, double weight, const GloveStepOptions& options);

struct GloveIteration {
  std::int32_t iteration = 0;  // 1-based
  double cost = 0.0;           // mean of ½ f diff² over the records
  double seconds = 0.0;        // this iteration's wall time
  std::int64_t skipped = 0;    // records skipped for a non-finite diff
};

struct GloveResult {
  std::vector<GloveIteration> history;
  double seconds = 0.0;  // training only (no loading, no saving)
  std::int32_t threads = 1;
};

// Trains `model` on the records (ids 1..model.vocab_size; UsageError otherwise). The records are
// copied once into the trainer's form (ids, log X, f(X)) before the clock starts. `callbacks`
// (run/callback.hpp) hear, as an epoch per iteration: on_train_begin(iterations, 1000); on_batch_end
// a few times a second at most, from the first worker thread, with batch = thousandths of that
// thread's slice done and loss = its running mean cost; on_epoch_end after each iteration with
// train.loss = the cost, train.samples = the records, epoch_seconds = the iteration's wall time,
// skipped_steps = the records skipped (true stops training); on_train_end.
GloveResult train_glove(GloveModel& model, std::span<const CooccurRecord> records, const GloveOptions& options,
                        const run::Callbacks& callbacks = {});

}  // namespace adakit::embed
