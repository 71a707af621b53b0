// The transports of adakit serve: a stream (stdin / stdout) and listening sockets (unix, TCP), a
// thread per client. Requests are split at '\n'; a line over max_line_bytes gets an error reply and
// is skipped up to its end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "adakit/core/error.hpp"
#include "adakit/serve/server.hpp"

namespace adakit::serve {
namespace {


// Splits bytes into lines and answers them; `send` gets each reply with its newline.
template <class Send>
class LineSplitter {
 public:
  LineSplitter(ModelServer& server, Send send) : server_(server), send_(std::move(send)) {}
  // Feeds bytes; false when sending failed (the client is gone).
  bool feed(const char* data, std::size_t n) {
    const std::size_t limit = server_.options().max_line_bytes;
    while (n > 0) {
      const void* nl = std::memchr(data, '\n', n);
      const std::size_t take = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : n;
      if (!skipping_) {
        if (line_.size() + take > limit) {
          skipping_ = true;
          line_.clear();
          line_.shrink_to_fit();
          if (!send_(server_.oversized(++requests_) + "\n")) return false;
        } else {
          line_.append(data, take);
        }
      }
      if (nl == nullptr) return true;
      if (!skipping_ && !answer()) return false;
      skipping_ = false;
      line_.clear();
      data += take + 1;
      n -= take + 1;
    }
    return true;
  }
  // The end of the input: an unterminated last line is answered (streams) or dropped (sockets).
  void finish(bool answer_last) {
    if (answer_last && !skipping_ && !line_.empty()) answer();
    line_.clear();
  }

 private:
  bool answer() { return send_(server_.handle(line_, ++requests_) + "\n"); }
  ModelServer& server_;
  Send send_;
  std::string line_;
  bool skipping_ = false;
  std::int64_t requests_ = 0;
};

bool send_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t k = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += static_cast<std::size_t>(k);
  }
  return true;
}

void serve_client(ModelServer& server, int fd) {
  LineSplitter splitter(server, [fd](const std::string& reply) { return send_all(fd, reply); });
  std::vector<char> buf(std::size_t{64} << 10);
  while (true) {
    const ssize_t k = ::recv(fd, buf.data(), buf.size(), 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;  // closed, or an error: the client is gone (a partial line is dropped)
    if (!splitter.feed(buf.data(), static_cast<std::size_t>(k))) break;
  }
  splitter.finish(false);
}

[[noreturn]] void fail(const std::string& what, const std::string& where) {
  throw Error(what + ": " + std::strerror(errno), {where, 0, "socket"});
}

}  // namespace

void serve_stream(ModelServer& server, std::FILE* in, std::FILE* out) {
  LineSplitter splitter(server, [out](const std::string& reply) {
    return std::fwrite(reply.data(), 1, reply.size(), out) == reply.size() && std::fflush(out) == 0;
  });
  std::vector<char> buf(std::size_t{64} << 10);
  while (true) {
    const ssize_t k = ::read(::fileno(in), buf.data(), buf.size());
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    if (!splitter.feed(buf.data(), static_cast<std::size_t>(k))) return;
  }
  splitter.finish(true);
}

struct SocketServer::Clients {
  struct Client {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mutex;
  std::set<int> fds;
  std::list<Client> threads;
  void join_finished() {  // with mutex held
    for (auto it = threads.begin(); it != threads.end();) {
      if (it->done.load()) {
        it->thread.join();
        it = threads.erase(it);
      } else {
        ++it;
      }
    }
  }
};

SocketServer::SocketServer(ModelServer& server, int fd, std::filesystem::path unix_path, int port, int max_clients)
    : server_(server), fd_(fd), unix_path_(std::move(unix_path)), port_(port), max_clients_(max_clients),
      clients_(std::make_unique<Clients>()) {}

std::unique_ptr<SocketServer> SocketServer::unix_socket(ModelServer& server, const std::filesystem::path& path,
                                                        int max_clients) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.empty() || p.size() >= sizeof addr.sun_path)
    throw UsageError("a unix socket path of 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes", {p, 0, "socket"});
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  struct stat st{};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw UsageError("exists and is not a socket; not replacing it", {p, 0, "socket"});
    ::unlink(p.c_str());  // a stale socket of an earlier server
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("cannot make a unix socket", p);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail("cannot listen on the unix socket", p);
  }
  return std::unique_ptr<SocketServer>(new SocketServer(server, fd, path, 0, max_clients));
}

std::unique_ptr<SocketServer> SocketServer::tcp(ModelServer& server, const std::string& host, int port, int max_clients) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (port < 0 || port > 65535 || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw UsageError("expected an IPv4 address and a port in [0, 65535], got " + host + ":" + std::to_string(port),
                     {"", 0, "host"});
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("cannot make a TCP socket", host);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail("cannot listen on " + host + ":" + std::to_string(port), host);
  }
  return std::unique_ptr<SocketServer>(new SocketServer(server, fd, {}, ntohs(addr.sin_port), max_clients));
}

SocketServer::~SocketServer() {
  stop();
  shutdown_clients();  // when run() did not
  for (auto& c : clients_->threads) c.thread.join();
  ::close(fd_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

void SocketServer::shutdown_clients() {
  std::lock_guard lock(clients_->mutex);
  for (const int c : clients_->fds) ::shutdown(c, SHUT_RDWR);  // their threads see the end and close
}

void SocketServer::run() {
  while (!stopping_.load()) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);  // wakes to notice stop()
    if (ready <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    if (unix_path_.empty()) {
      const int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    std::lock_guard lock(clients_->mutex);
    if (static_cast<int>(clients_->fds.size()) >= max_clients_) {
      send_all(c, nlohmann::json{{"error", "too many clients (--max-clients " + std::to_string(max_clients_) + ")"}}.dump() + "\n");
      ::close(c);
      continue;
    }
    clients_->join_finished();  // finished clients' threads are joined as new ones come
    clients_->fds.insert(c);
    auto& client = clients_->threads.emplace_back();
    client.thread = std::thread([this, c, &client] {
      serve_client(server_, c);
      std::lock_guard l(clients_->mutex);
      clients_->fds.erase(c);
      ::close(c);
      client.done = true;
    });
  }
  shutdown_clients();
}

// Another thread's stop() may run while run() returns and the server is destroyed: it touches no
// member after setting the flag (the listening socket is closed by the destructor).
void SocketServer::stop() {
  const int fd = fd_;
  if (stopping_.exchange(true)) return;
  ::shutdown(fd, SHUT_RDWR);  // wakes run()'s poll
}

}  // namespace adakit::serve
