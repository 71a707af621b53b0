// adakit serve: a saved sparse model answering requests over stdin/stdout, a unix socket or TCP
// (127.0.0.1 unless --host says otherwise), learning from labelled lines with --learn. The library
// does the work (serve/server.hpp: the protocol, the locking, the snapshots, the transports); this
// file wires flags and signals to it.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

#include "adakit/core/error.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/serve/server.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct ServeFlags {
  std::string model, socket, host = "127.0.0.1", save;
  int port = -1, max_clients = 64;
  bool stdio = false, learn = false, probabilities = false, freeze_vocabulary = false, quiet = false;
  double threshold = -1.0;
  bool top_k_given = false;
  std::int64_t top_k = 1, snapshot_every = 0, max_line_bytes = std::int64_t{1} << 20, max_features = std::int64_t{1} << 20;
  OptimizerFlags opt;
  bool optimizer_given = false;
};

// The optimizer that learns when the model file keeps none (saved without --save-state).
std::unique_ptr<linear::LinearOptimizer> fresh_optimizer(const ServeFlags& f, const io::LinearModelFile& file) {
  if (file.predict_only) return nullptr;  // adakit export's: ModelServer refuses --learn on it
  if (!f.learn || file.optimizer) {
    if (file.optimizer && f.optimizer_given && f.opt.optimizer != file.optimizer->name())
      throw UsageError(f.model + " keeps the state of " + std::string(file.optimizer->name()) + "; leave --optimizer out",
                       {"", 0, "optimizer"});
    return nullptr;
  }
  const OptimizerChoice choice = one_optimizer(f.opt, OptimizerKind::linear, "serve takes one optimizer");
  if (choice.name == "ftrl" || choice.name == "adagrad-rda")
    throw UsageError(f.model + " keeps no optimizer state, and " + choice.name +
                     "'s weights are a function of it: save the model with --save-state to learn on", {"", 0, "learn"});
  return linear::make_linear_optimizer(choice.name, choice.options);
}

// SIGTERM / SIGINT / SIGHUP: a last snapshot (it waits for the update in progress), then the end.
// A handler (process-wide, whichever thread the kernel picks: OpenBLAS's and OpenMP's threads exist
// before this runs and do not block the signals) writes the signal to a pipe; one thread reads it.
int signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  const auto b = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t w = ::write(signal_pipe[1], &b, 1);
}
void on_signals(serve::ModelServer& server, serve::SocketServer* sockets, bool quiet) {
  if (::pipe2(signal_pipe, O_CLOEXEC) != 0) throw Error("cannot make the signal pipe");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(s, &sa, nullptr);
  std::thread([&server, sockets, quiet] {
    unsigned char sig = 0;
    while (::read(signal_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    if (sockets != nullptr) {  // run() returns; run_serve takes the last snapshot
      sockets->stop();
      return;
    }
    try {
      if (server.snapshot() && !quiet) std::fprintf(stderr, "adakit serve: snapshot %s\n", server.options().save.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "adakit: error: %s\n", e.what());
      std::fflush(stdout);
      std::_Exit(1);
    }
    std::fflush(stdout);
    std::_Exit(0);
  }).detach();
}

int run_serve(const ServeFlags& f) {
  const int transports = (f.stdio ? 1 : 0) + (f.socket.empty() ? 0 : 1) + (f.port >= 0 ? 1 : 0);
  if (transports > 1) throw UsageError("give one of --stdio, --socket PATH and --port N", {"", 0, "socket"});
  io::LinearModelFile file = io::read_linear_model(f.model, /*sync_weights=*/!f.learn);
  auto fresh = fresh_optimizer(f, file);
  serve::ServerOptions o{.learn = f.learn, .top_k = f.top_k, .probabilities = f.probabilities,
                         .threshold = f.threshold, .threshold_top_k = f.top_k_given ? f.top_k : 0,
                         .grow = !f.freeze_vocabulary, .save = f.save, .snapshot_every = f.snapshot_every,
                         .max_line_bytes = static_cast<std::size_t>(f.max_line_bytes), .max_features = f.max_features};
  serve::ModelServer server(std::move(file), o, std::move(fresh));
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<serve::SocketServer> sockets;
  if (!f.socket.empty()) sockets = serve::SocketServer::unix_socket(server, f.socket, f.max_clients);
  else if (f.port >= 0) sockets = serve::SocketServer::tcp(server, f.host, f.port, f.max_clients);
  on_signals(server, sockets.get(), f.quiet);
  if (!f.quiet)
    std::fprintf(stderr, "adakit serve: %s (%s model%s) on %s\n", f.model.c_str(), server.text_model() ? "text" : "LIBSVM",
                 f.learn ? ", learning" : "",
                 !f.socket.empty() ? ("unix socket " + f.socket).c_str()
                 : sockets        ? (f.host + ":" + std::to_string(sockets->port())).c_str()
                                  : "stdin/stdout");
  if (sockets) sockets->run();
  else serve::serve_stream(server, stdin, stdout);
  sockets.reset();  // joins the clients
  if (server.snapshot() && !f.quiet) std::fprintf(stderr, "adakit serve: snapshot %s\n", f.save.c_str());
  return 0;
}

}  // namespace

void add_serve(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("serve", "answer prediction requests with a saved sparse model (and learn from labelled ones)");
  auto f = std::make_shared<ServeFlags>();
  app->add_option("--model,-m", f->model, "a sparse model file (adakit train --save; --save-state to learn on exactly)")
      ->required();
  app->add_flag("--stdio", f->stdio, "requests on stdin, replies on stdout (the default without --socket / --port)");
  app->add_option("--socket", f->socket, "listen on this unix socket path");
  app->add_option("--port", f->port, "listen on TCP PORT at --host (0: any free port, printed on stderr)");
  add_value(*app, "--host", f->host, "TCP: the IPv4 address to bind (127.0.0.1: this machine only)");
  add_value(*app, "--max-clients", f->max_clients, "clients served at once; more are told so and closed",
            CLI::Range(1, 4096));
  app->add_flag("--learn", f->learn, "labelled requests update the model (the optimizer step of adakit train)");
  add_value(*app, "--top-k", f->top_k, "classes in each reply's \"top\" list", CLI::Range(std::int64_t{1}, std::int64_t{1} << 24))
      ->each([f](const std::string&) { f->top_k_given = true; });
  app->add_option("--threshold", f->threshold,
                  "each reply's \"labels\": every class with probability >= T (of the --top-k most probable when "
                  "given): an ova model's multilabel answer")
      ->check(CLI::Range(0.0, 1.0));
  app->add_flag("--probabilities", f->probabilities, "every class's probability in each reply");
  app->add_flag("--freeze-vocabulary", f->freeze_vocabulary, "--learn on a text model: keep its vocabulary");
  app->add_option("--save", f->save, "snapshot file: the model with its optimizer state, written atomically");
  add_value(*app, "--snapshot-every", f->snapshot_every, "learnt examples between snapshots (0: on !snapshot and at exit)",
            CLI::Range(std::int64_t{0}, std::int64_t{1} << 50));
  add_value(*app, "--max-line-bytes", f->max_line_bytes, "longest request; longer ones get an error reply",
            CLI::Range(std::int64_t{16}, std::int64_t{1} << 30));
  add_value(*app, "--max-features", f->max_features,
            "--learn on a LIBSVM model: the largest feature index a request may bring (the model grows to it)",
            CLI::Range(std::int64_t{1}, std::int64_t{1} << 27));
  add_optimizer_flags(*app, f->opt);
  app->add_flag("--quiet,-q", f->quiet, "print nothing on stderr but errors");
  app->parse_complete_callback([app, f] { f->optimizer_given = app->get_option("--optimizer")->count() > 0; });
  action_for(app, action, [f] { return run_serve(*f); });
}

}  // namespace adakit::cli
