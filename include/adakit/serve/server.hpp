// adakit serve: a saved sparse model answering requests, one per line, and learning from labelled ones.
//
// Requests (UTF-8, one per line ending in '\n'; a '\r' before it is dropped; at most max_line_bytes):
//   text model     TEXT                 predict TEXT's class
//                  LABEL<TAB>TEXT       a labelled example: learnt with --learn (after predicting it),
//                                       else predicted (the reply says whether the label was right)
//   LIBSVM model   IDX:VAL ...          predict
//                  LABEL IDX:VAL ...    a labelled example, as above
//   commands       !stats               counters and the model's size
//                  !snapshot            write the snapshot file now (--save)
// Replies: one JSON object per request, in order, on one line:
//   {"label": "pos", "probability": 0.93}                               classification
//   + "top": [{"label", "probability"}, ...] (top_k > 1), "probabilities": {label: p} (probabilities),
//   + "labels": [{"label", "probability"}, ...] (threshold >= 0: every class with p >= threshold, of the
//     threshold_top_k most probable when > 0, most probable first; an ova model's multilabel answer, as
//     adakit predict --threshold and fastText's predict FILE k threshold)
//   {"prediction": 1.25}                                                regression
//   learnt: the prediction made before the update, "learned": true, "loss" (the example's loss before
//   the update: progressive validation, as train --progress-every)
//   {"error": "...", "request": N}       a bad request (N counts this connection's requests from 1);
//                                        the server goes on. A labelled line whose step would
//                                        overflow float32 (a huge value) is refused, not learnt.
//
// Concurrency: any number of threads may call handle(). Predictions share the model (a shared lock);
// a learning step, with its vocabulary growth, holds it alone, so a prediction sees the model before
// or after an update, never during one. Learning with a lazy optimizer (adagrad-l1 and sgd with l1 /
// l2, adagrad-rda: LinearOptimizer::lazy) brings the weights a prediction reads up to date first, so
// those predictions take the lock alone too.
//
// The promise: a server fed examples A then B with learning on ends bit-identical to adakit train
// --init-model over A then B with --batch-size 1 --no-shuffle --epochs 1 (linear::OnlineLearner does
// both) — when no prediction of a lazy optimizer's model came in between (its catch-up would round the
// later shrinks of the features it read differently, in the last bit).
//
// Snapshots: the model with its optimizer state (a file --init-model, predict and serve read), written
// atomically (a temporary file renamed over the target) every `snapshot_every` learnt examples, on
// !snapshot and at the end; a kill at any moment leaves the previous snapshot or the new one, whole.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "adakit/io/linear_model.hpp"
#include "adakit/linear/online.hpp"

namespace adakit::serve {

// ---- requests

enum class RequestKind { predict, labelled, command, error };
struct Request {
  RequestKind kind = RequestKind::error;
  std::string_view label;  // labelled: the label
  std::string_view body;   // predict / labelled: the text or the LIBSVM pairs; command: its name ("stats")
  std::string_view line;   // the whole request, without its line end
  std::string error;       // error: why
};
// Parses one request line (its '\n' removed). Never throws: a malformed line (empty, invalid UTF-8, a
// labelled line with an empty label) is an error request.
Request parse_request(std::string_view line, bool text_model);
// Whether `s` is well-formed UTF-8 (data::is_valid_utf8: no overlong forms, surrogates or code points
// above U+10FFFF).
bool valid_utf8(std::string_view s);

// ---- the server

struct ServerOptions {
  bool learn = false;               // labelled requests update the model
  std::int64_t top_k = 1;           // classes in a reply's "top" (1: only the best)
  bool probabilities = false;       // every class's probability in the reply
  double threshold = -1.0;          // >= 0 (at most 1): the reply's "labels" (see the top); < 0: none
  std::int64_t threshold_top_k = 0; // "labels" of the k most probable classes only (0: of all of them)
  bool grow = true;                 // learning grows the vocabulary / LIBSVM columns
  std::filesystem::path save;       // snapshot file (empty: none)
  std::int64_t snapshot_every = 0;  // learnt examples between snapshots (0: on !snapshot and at the end only)
  std::size_t max_line_bytes = std::size_t{1} << 20;
  // LIBSVM learning: the largest feature index a labelled request may bring (the model grows to it:
  // one request could otherwise ask for 2^27 rows); at least the model's dim.
  std::int64_t max_features = std::int64_t{1} << 20;
};

struct ServerStats {
  std::int64_t requests = 0, predictions = 0, learned = 0, errors = 0, snapshots = 0;
};

class ModelServer {
 public:
  // `file`: read with sync_weights = !options.learn (learning continues the optimizer as saved).
  // UsageError when learning is asked of a model without an optimizer state that needs one (ftrl,
  // adagrad-rda), top_k < 1, a threshold above 1 (or NaN) or on a regression model, snapshot_every > 0 without a save path, or learn / save with a
  // predict-only file (adakit export's compact model).
  // `fresh`: the optimizer that learns when the file keeps none.
  ModelServer(io::LinearModelFile file, ServerOptions options, std::unique_ptr<linear::LinearOptimizer> fresh = nullptr);
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  // The reply to one request line (JSON, no newline). `request` numbers it in error replies. Thread-safe.
  std::string handle(std::string_view line, std::int64_t request = 0);
  // The error reply to a request over max_line_bytes (a transport skips the line), counted.
  std::string oversized(std::int64_t request);
  // Writes the snapshot file (when there is a save path); returns whether it wrote. Thread-safe.
  bool snapshot();
  ServerStats stats() const;
  bool text_model() const noexcept { return file_.vectorizer.has_value(); }
  const ServerOptions& options() const noexcept { return options_; }

 private:
  std::string predict(const Request& r, std::int64_t request);
  std::string learn(const Request& r, std::int64_t request);
  std::string command(const Request& r, std::int64_t request);
  // One row of features for `body` through the model's vectorizer or as LIBSVM pairs.
  data::CsrMatrix features(std::string_view body) const;
  // The prediction JSON of row 0 of x (the caller holds the lock).
  nlohmann::json answer(const data::CsrMatrix& x) const;
  void write_snapshot_locked();
  // Error when learning from the one example of d would overflow float32 or its score is not finite.
  void check_step_is_finite(const data::SparseDataset& d) const;

  io::LinearModelFile file_;
  ServerOptions options_;
  std::unique_ptr<linear::LinearOptimizer> optimizer_;  // learning: the saved one, or a fresh one
  std::optional<linear::OnlineLearner> learner_;
  mutable std::shared_mutex model_mutex_;
  std::mutex snapshot_mutex_;
  struct Counters {  // atomics: counting a request takes no lock
    std::atomic<std::int64_t> requests{0}, predictions{0}, learned{0}, errors{0}, snapshots{0};
  };
  Counters counters_;
};

// ---- transports

// Requests from `in`, replies to `out` (flushed after each), until the end of `in`. A last line without
// its newline is answered too.
void serve_stream(ModelServer& server, std::FILE* in, std::FILE* out);

// A listening socket: a unix socket at `path` (a stale socket file there is replaced), or TCP on
// host:port. Each client gets its own thread; its requests are answered in order. A client that
// disconnects mid-line loses only that line; a line over max_line_bytes gets an error reply and is
// skipped up to its end. Returns when stop() is called. Error when the socket cannot be made.
class SocketServer {
 public:
  static std::unique_ptr<SocketServer> unix_socket(ModelServer& server, const std::filesystem::path& path,
                                                   int max_clients);
  static std::unique_ptr<SocketServer> tcp(ModelServer& server, const std::string& host, int port, int max_clients);
  ~SocketServer();
  void run();         // accepts clients until stop()
  void stop();        // from any thread (a signal handler's thread): closes the listening socket and the clients
  int port() const noexcept { return port_; }  // TCP: the port bound (useful with port 0)

 private:
  SocketServer(ModelServer& server, int fd, std::filesystem::path unix_path, int port, int max_clients);
  void shutdown_clients();
  ModelServer& server_;
  int fd_;
  std::filesystem::path unix_path_;
  int port_;
  int max_clients_;
  std::atomic<bool> stopping_{false};
  struct Clients;
  std::unique_ptr<Clients> clients_;
};

}  // namespace adakit::serve
