// Learning from examples as they come: a stream read from stdin (adakit train --data -), a file after
// a saved model (adakit train --init-model), labelled requests of adakit serve --learn. One learner for
// all of them, so that every route takes the same steps:
//
//   linear::OnlineLearner learner(model, optimizer, vectorizer_or_null, {.batch_size = 1});
//   learner.learn(lines, "stdin", first_line);          // whole lines; the model grows as needed
//
// The promise (docs/online.md): the model after any sequence of chunks — warm starts, stream chunks,
// server updates — is bit-identical to one linear::fit over the same examples in the same order, one
// epoch, no shuffling, when the batches fall the same way (batch_size 1, or chunks of whole batches).
// Three things make it hold:
//  - the optimizer state is the model's (continued, never reset), and fit runs with sync = false, so a
//    lazy L1/L2 shrink is applied once, when its feature is next seen, as in the uninterrupted run;
//  - a text vocabulary grows in sorted order (TextVectorizer::grow): every column keeps its place
//    relative to every other, so each row's scores are summed in the same order as in a run that knew
//    every term from the start, and a new term's row starts as a fresh model's (zeros, AdaGrad's
//    initial accumulator);
//  - LIBSVM columns grow at the end (a feature's id is its index).
// A tf-idf or pruned vocabulary does not grow (TextVectorizer::can_grow): its terms and idf stay as
// first fitted and new terms are ignored; so does any vocabulary when `grow` is false.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/run/callback.hpp"

namespace adakit::linear {

struct OnlineOptions {
  std::int64_t batch_size = 1;
  bool grow = true;                              // grow the vocabulary / the LIBSVM columns
  std::int64_t max_dim = std::int64_t{1} << 27;  // LIBSVM: the largest feature index taken
};

class OnlineLearner {
 public:
  // `vectorizer`: a text model's (lines are label<TAB>text), or nullptr (lines are LIBSVM). A text
  // vectorizer that has not been fitted is fitted on the first chunk. The model's class names say what
  // the labels are (classification); its task, its outputs. All three are held by reference.
  OnlineLearner(LinearModel& model, LinearOptimizer& optimizer, data::TextVectorizer* vectorizer, OnlineOptions options);

  // The examples of `lines` (whole lines; `source` and `first_line` name them in errors) as the model
  // reads them: the vocabulary or the columns grown first (when they may), labels numbered as the
  // model's classes. Error naming source, line and field on a malformed line or a label that is not
  // one of the model's classes; nothing changes then. Rows with no label are an error.
  data::SparseDataset examples(std::string_view lines, const std::string& source, std::int64_t first_line);
  // examples(), then one pass over them in order (linear::fit, one epoch, no shuffle, no sync), batches
  // of batch_size. `callbacks` hear the batches (progressive validation) and the epoch.
  FitResult learn(std::string_view lines, const std::string& source, std::int64_t first_line,
                  const run::Callbacks& callbacks = {});
  // The same over examples already read (examples() of the same learner).
  FitResult learn(const data::SparseDataset& examples, const run::Callbacks& callbacks = {});

  std::int64_t examples_seen() const noexcept { return seen_; }
  std::int64_t features_added() const noexcept { return added_; }

 private:
  void grow_to(std::int64_t dim, std::span<const std::int64_t> new_of_old);

  LinearModel& model_;
  LinearOptimizer& optimizer_;
  data::TextVectorizer* vectorizer_;
  OnlineOptions options_;
  std::int64_t seen_ = 0, added_ = 0;
  std::int64_t shards_for_ = -1;  // the vocabulary size the model's feature shards were set for
};

// Whether label `a` names class `b`: the same text or (`numeric`: LIBSVM) the same number ("1" is "+1").
bool same_class(std::string_view a, std::string_view b, bool numeric);
// The model's class id of each label name of `d` (its class_names), renumbering d's labels in place:
// a name equal to one of `names`, or (`numeric`: LIBSVM) a number equal to one of theirs ("1" is
// "+1"); multilabel data's label sets with them. Error naming `source` and "label" on a class that is not
// one of `names`.
void number_classes(data::SparseDataset& d, const std::vector<std::string>& names, bool numeric,
                    const std::string& source);

}  // namespace adakit::linear
