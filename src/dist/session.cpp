// adakit::dist::TrainSession: see include/adakit/dist/session.hpp.
#include "adakit/dist/session.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::dist {
namespace {

// Bytes this process has passed to write() and friends (Linux /proc/self/io "wchar"; -1 elsewhere).
// With Open MPI's TCP transport (--mca btl self,tcp) nearly all of them are the messages it sends: a
// wire measurement next to Comm's payload counters. (Shared memory transports write nothing.)
std::int64_t bytes_written() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return -1;
  char key[64];
  long long value = 0;
  std::int64_t out = -1;
  while (std::fscanf(f, "%63s %lld", key, &value) == 2)
    if (std::string(key) == "wchar:") out = value;
  std::fclose(f);
  return out;
}

}  // namespace

TrainSession::TrainSession(DataParallelOptions options)
    : env_(nullptr, nullptr), comm_(Comm::world()), options_(options) {}

TrainSession::TrainSession(const train::DataParallelChoice& choice)
    : TrainSession(DataParallelOptions{.mode = mode_from_string(choice.mode), .bucket_bytes = choice.bucket_kb * 1024}) {}

train::Replicas* TrainSession::attach(nn::Sequential& model, optim::Optimizer& optimizer) {
  dp_.emplace(comm_, model, optimizer, options_);
  comm_.reset_traffic();
  written_at_attach_ = bytes_written();
  return &*dp_;
}

void TrainSession::detach() {
  writer_.reset();
  dp_.reset();
}

train::Callback* TrainSession::checkpoint_writer(const std::filesystem::path& path, nn::Sequential& model,
                                                 optim::Optimizer& optimizer, std::int64_t every_batches,
                                                 std::map<std::string, std::string> metadata) {
  if (!dp_) throw Error("data parallel: checkpoint writer before attach()");
  writer_.emplace(path, *dp_, model, optimizer, every_batches, std::move(metadata));
  return &*writer_;
}

nlohmann::json TrainSession::report() const {
  nlohmann::json j = {{"ranks", comm_.size()}, {"mode", std::string(to_string(options_.mode))}};
  if (!dp_) return j;
  const auto& t = comm_.traffic();
  const std::int64_t steps = std::max<std::int64_t>(1, dp_->steps());
  const double k = comm_.size(), n = static_cast<double>(dp_->numel());
  const auto per_step = [&](std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(steps); };
  j["steps"] = dp_->steps();
  j["parameters"] = dp_->numel();
  j["state_bytes_this_rank"] = dp_->state_bytes();
  if (options_.mode == Mode::replicated) j["buckets"] = dp_->buckets();
  // Payload handed to MPI per step (Comm::traffic), and the least a ring algorithm sends.
  j["mpi_payload_bytes_per_step"] = {{"allreduce", per_step(t.allreduce_bytes)},
                                     {"reduce_scatter", per_step(t.reduce_scatter_bytes)},
                                     {"allgather", per_step(t.allgather_bytes)},
                                     {"gather (checkpoints)", per_step(t.gather_bytes)}};
  j["min_sent_bytes_per_step"] = 2.0 * (k - 1.0) / k * n * 4.0;
  j["ms_per_step_in_reduce"] = 1000.0 * dp_->reduce_seconds() / static_cast<double>(steps);
  j["ms_per_step_in_step"] = 1000.0 * dp_->step_seconds() / static_cast<double>(steps);
  const std::int64_t written = bytes_written();
  if (written >= 0 && written_at_attach_ >= 0)
    j["os_write_bytes_per_step"] = static_cast<double>(written - written_at_attach_) / static_cast<double>(steps);
  return j;
}

}  // namespace adakit::dist
