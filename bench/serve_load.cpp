// adakit-serve-load: a load generator for `adakit serve` over a unix socket or TCP. Prints one JSON
// object: requests per second and latency percentiles (bench/serve.sh runs it; docs/serve.md,
// "Throughput and latency").
//
//   adakit-serve-load --socket /tmp/s.sock --requests texts.txt --clients 8 --seconds 10
//   adakit-serve-load --port 5000 [--host 127.0.0.1] --requests texts.txt --clients 1 --pipeline 32
//
// K clients (--clients), each a thread with its own connection. Closed loop (--pipeline 1, the
// default): a client sends one request line, waits for its reply line, records the latency
// (steady_clock, send to the reply's '\n'), and sends the next. Pipelined (--pipeline D): a client
// writes D request lines in one send(), then reads the D replies; each request's latency runs from
// that send to its own reply (D small enough that D requests and D replies fit in the socket buffers:
// the client does not read while it writes).
// Requests are the non-empty lines of --requests, sent verbatim, cycling; client i starts at line
// i * lines / K so that clients do not send the same line at the same time.
// All clients connect, then start together. The first --warmup seconds (default 1) are not counted;
// then requests whose reply arrives within the next --seconds (default 10) count, or, with --count N,
// each client sends N requests after the warm-up and the window is the time until the last one ends.
// An error is the server's error reply ({"error": ...}) or a connection that fails; a
// failed connection ends its client.
// "server_stats": the server's reply to "!stats" on a fresh connection after the run.
// "client_cpu_s": this process's CPU time (user + system) over the whole run, warm-up included; on a
// machine where clients and server share cores it is CPU the server did not get.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"

namespace {

constexpr const char* kTool = "adakit-serve-load";
constexpr const char* kUsage =
    "adakit-serve-load (--socket PATH | --port N [--host H]) --requests FILE [--clients K] [--seconds S | --count N]\n"
    "                  [--warmup S] [--pipeline D]\n";

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string socket, host = "127.0.0.1", requests;
  int port = -1;
  std::int64_t clients = 1, seconds = 10, warmup = 1, count = 0, pipeline = 1;
};

// A connected socket with a buffered line reader.
class Connection {
 public:
  explicit Connection(const Flags& f) {
    if (!f.socket.empty()) {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (f.socket.size() >= sizeof addr.sun_path) throw adakit::Error("socket path too long: " + f.socket);
      std::memcpy(addr.sun_path, f.socket.c_str(), f.socket.size() + 1);
      fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw adakit::Error("cannot connect to " + f.socket + ": " + std::strerror(errno));
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(f.port));
      if (::inet_pton(AF_INET, f.host.c_str(), &addr.sin_addr) != 1) throw adakit::Error("not an IPv4 address: " + f.host);
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw adakit::Error("cannot connect to " + f.host + ":" + std::to_string(f.port) + ": " + std::strerror(errno));
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool send_all(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const ssize_t k = ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      done += static_cast<std::size_t>(k);
    }
    return true;
  }
  // The next reply line (without '\n') into `line`; false when the connection ends first.
  bool read_line(std::string& line) {
    while (true) {
      const auto nl = std::find(buf_.begin() + static_cast<std::ptrdiff_t>(start_), buf_.end(), '\n');
      if (nl != buf_.end()) {
        const auto end = static_cast<std::size_t>(nl - buf_.begin());
        line.assign(buf_.data() + start_, end - start_);
        start_ = end + 1;
        return true;
      }
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
      start_ = 0;
      char chunk[16384];
      const ssize_t k = ::recv(fd_, chunk, sizeof chunk, 0);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      buf_.insert(buf_.end(), chunk, chunk + k);
    }
  }

 private:
  int fd_ = -1;
  std::vector<char> buf_;
  std::size_t start_ = 0;
};

struct ClientResult {
  std::vector<std::int64_t> latencies_ns;  // counted requests only
  std::int64_t errors = 0;
  Clock::time_point last_end{};
};

// The server's error reply is an object whose first key is "error" (keys sorted); a label may be "error".
bool is_error(const std::string& reply) { return reply.starts_with("{\"error\""); }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double percentile_us(const std::vector<std::int64_t>& sorted, double q) {  // nearest rank
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]) * 1e-3;
}

Flags parse_flags(int argc, char** argv) {
  Flags f;
  auto number = [&](const std::string& flag, const char* text, std::int64_t lo) {
    const std::int64_t v = adakit::bench::parse_int(kTool, kUsage, flag, text);
    if (v < lo) adakit::bench::usage_exit(kTool, kUsage, flag + " must be >= " + std::to_string(lo));
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: %s", kUsage);
      std::exit(0);
    }
    if (i + 1 >= argc) adakit::bench::usage_exit(kTool, kUsage, a + " needs a value (or is unknown)");
    const char* v = argv[++i];
    if (a == "--socket") f.socket = v;
    else if (a == "--host") f.host = v;
    else if (a == "--port") f.port = static_cast<int>(number(a, v, 1));
    else if (a == "--requests") f.requests = v;
    else if (a == "--clients") f.clients = number(a, v, 1);
    else if (a == "--seconds") f.seconds = number(a, v, 1);
    else if (a == "--warmup") f.warmup = number(a, v, 0);
    else if (a == "--count") f.count = number(a, v, 1);
    else if (a == "--pipeline") f.pipeline = number(a, v, 1);
    else adakit::bench::usage_exit(kTool, kUsage, "unknown flag " + a);
  }
  if (f.socket.empty() == (f.port < 0)) adakit::bench::usage_exit(kTool, kUsage, "give one of --socket and --port");
  if (f.requests.empty()) adakit::bench::usage_exit(kTool, kUsage, "--requests FILE is required");
  return f;
}

int run(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv);
  std::vector<std::string> lines;
  {
    std::ifstream in(f.requests);
    if (!in) throw adakit::Error("cannot read " + f.requests);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) lines.push_back(std::move(l));
  }
  if (lines.empty()) throw adakit::Error(f.requests + " holds no request line");
  for (const auto& l : lines)
    if (l.find('\r') != std::string::npos && l.back() != '\r') throw adakit::Error("a request holds a '\\r'");

  const auto k = static_cast<std::size_t>(f.clients);
  const auto depth = static_cast<std::size_t>(f.pipeline);
  std::vector<std::unique_ptr<Connection>> conns;
  for (std::size_t i = 0; i < k; ++i) conns.push_back(std::make_unique<Connection>(f));

  std::vector<ClientResult> results(k);
  Clock::time_point start{}, measure_from{}, measure_to{};
  const double cpu0 = cpu_seconds();
  std::barrier sync(static_cast<std::ptrdiff_t>(k), [&]() noexcept {
    start = Clock::now();
    measure_from = start + std::chrono::seconds(f.warmup);
    measure_to = measure_from + std::chrono::seconds(f.seconds);
  });
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < k; ++c) {
    threads.emplace_back([&, c] {
      Connection& conn = *conns[c];
      ClientResult& r = results[c];
      std::size_t next = c * lines.size() / k;
      std::int64_t counted_sent = 0;
      std::string batch, reply;
      r.latencies_ns.reserve(1 << 20);
      sync.arrive_and_wait();
      while (true) {
        const Clock::time_point now = Clock::now();
        if (f.count > 0 ? counted_sent >= f.count : now >= measure_to) break;
        const bool counted = now >= measure_from;
        std::size_t n = depth;
        if (f.count > 0 && counted) n = std::min<std::size_t>(n, static_cast<std::size_t>(f.count - counted_sent));
        batch.clear();
        for (std::size_t j = 0; j < n; ++j) {
          batch += lines[next];
          batch += '\n';
          next = (next + 1) % lines.size();
        }
        const Clock::time_point sent = Clock::now();
        if (!conn.send_all(batch)) {
          ++r.errors;
          return;
        }
        for (std::size_t j = 0; j < n; ++j) {
          if (!conn.read_line(reply)) {
            ++r.errors;
            return;
          }
          const Clock::time_point end = Clock::now();
          // Closed loop / count: counted by when it was sent; seconds: by when its reply came.
          const bool in_window = f.count > 0 ? counted : end >= measure_from && end < measure_to;
          if (!in_window) continue;
          if (is_error(reply)) ++r.errors;
          r.latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - sent).count());
          r.last_end = end;
        }
        if (counted) counted_sent += static_cast<std::int64_t>(n);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double client_cpu = cpu_seconds() - cpu0;
  conns.clear();

  std::vector<std::int64_t> all;
  std::int64_t errors = 0;
  Clock::time_point last = measure_from;
  for (const auto& r : results) {
    all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    errors += r.errors;
    last = std::max(last, r.last_end);
  }
  std::sort(all.begin(), all.end());
  const double seconds = f.count > 0 ? std::chrono::duration<double>(last - measure_from).count()
                                     : static_cast<double>(f.seconds);
  double mean_us = 0.0;
  for (const auto v : all) mean_us += static_cast<double>(v) * 1e-3;
  if (!all.empty()) mean_us /= static_cast<double>(all.size());

  std::string stats = "null";
  try {
    Connection conn(f);
    if (conn.send_all("!stats\n") && conn.read_line(stats) && stats.empty()) stats = "null";
  } catch (const adakit::Error&) {
    stats = "null";
  }

  std::printf(
      "{\"transport\": \"%s\", \"clients\": %lld, \"pipeline\": %lld, \"requests\": %zu, \"seconds\": %.3f, "
      "\"requests_per_s\": %.1f, \"mean_us\": %.1f, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
      "\"max_us\": %.1f, \"errors\": %lld, \"client_cpu_s\": %.3f, \"server_stats\": %s}\n",
      f.socket.empty() ? "tcp" : "unix", static_cast<long long>(f.clients), static_cast<long long>(f.pipeline),
      all.size(), seconds, seconds > 0 ? static_cast<double>(all.size()) / seconds : 0.0, mean_us,
      percentile_us(all, 0.50), percentile_us(all, 0.90), percentile_us(all, 0.99),
      all.empty() ? 0.0 : static_cast<double>(all.back()) * 1e-3, static_cast<long long>(errors), client_cpu,
      stats.c_str());
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return adakit::bench::run_tool(kTool, [&] { return run(argc, argv); }); }
