// `mpirun -np K adakit train ...`: data-parallel training (adakit::dist) when adakit is built with MPI
// (ADAKIT_HAS_MPI); without it, a clear error under mpirun with several processes.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "train.hpp"

#if ADAKIT_HAS_MPI
#include "adakit/dist/comm.hpp"
#include "adakit/dist/data_parallel.hpp"
#endif

namespace adakit::cli {
namespace {

// The world size mpirun announces in the environment (0: not started by mpirun).
int mpirun_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

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

void check_mode(const std::string& mode) {
  if (mode != "replicated" && mode != "sharded")
    throw UsageError("--dist must be replicated or sharded", {"", 0, "dist"});
}

#if ADAKIT_HAS_MPI

class MpiParallel final : public TrainParallel {
 public:
  MpiParallel(dist::Mode mode, std::int64_t bucket_bytes)
      : env_(nullptr, nullptr), comm_(dist::Comm::world()), options_{.mode = mode, .bucket_bytes = bucket_bytes} {}
  ~MpiParallel() override { detach(); }

  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }

  train::Replicas* attach(nn::Sequential& model, optim::Optimizer& optimizer) override {
    dp_.emplace(comm_, model, optimizer, options_);
    comm_.reset_traffic();
    written_at_attach_ = bytes_written();
    return &*dp_;
  }

  void detach() override {
    writer_.reset();
    dp_.reset();
  }

  train::Callback* checkpoint_writer(const std::filesystem::path& path, nn::Sequential& model,
                                     optim::Optimizer& optimizer, std::int64_t every_batches,
                                     std::map<std::string, std::string> metadata) override {
    if (!dp_) throw Error("data parallel: checkpoint writer before attach()");
    writer_.emplace(path, *dp_, model, optimizer, every_batches, std::move(metadata));
    return &*writer_;
  }
  std::int64_t checkpoints_written() const override { return writer_ ? writer_->saves() : 0; }

  std::int64_t state_bytes() const override { return dp_ ? dp_->state_bytes() : 0; }

  nlohmann::json report() const override {
    nlohmann::json j = {{"ranks", comm_.size()}, {"mode", std::string(dist::to_string(options_.mode))}};
    if (!dp_) return j;
    const auto& t = comm_.traffic();
    const std::int64_t steps = std::max<std::int64_t>(1, dp_->steps());
    const double k = comm_.size(), n = static_cast<double>(dp_->numel());
    const auto per_step = [&](std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(steps); };
    j["steps"] = dp_->steps();
    j["parameters"] = dp_->numel();
    j["state_bytes_this_rank"] = dp_->state_bytes();
    if (options_.mode == dist::Mode::replicated) j["buckets"] = dp_->buckets();
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

  [[noreturn]] void abort(const std::string& why, int code) override { comm_.abort(why, code); }

 private:
  dist::Environment env_;
  dist::Comm comm_;
  dist::DataParallelOptions options_;
  std::optional<dist::DataParallel> dp_;
  std::optional<dist::CheckpointWriter> writer_;
  std::int64_t written_at_attach_ = -1;
};

#endif

}  // namespace

std::unique_ptr<TrainParallel> TrainParallel::start(const TrainFlags& f) {
  check_mode(f.dist);
  if (f.dist_bucket_kb < 1) throw UsageError("--dist-bucket-kb must be >= 1", {"", 0, "dist-bucket-kb"});
  const int world = mpirun_world_size();
  if (world == 0) return nullptr;
#if ADAKIT_HAS_MPI
  return std::make_unique<MpiParallel>(dist::mode_from_string(f.dist), f.dist_bucket_kb * 1024);
#else
  if (world > 1)
    throw UsageError("started by mpirun with " + std::to_string(world) +
                     " processes, but this adakit was built without MPI (configure with -DADAKIT_MPI=ON; "
                     "Debian: libopenmpi-dev)", {"", 0, "dist"});
  return nullptr;
#endif
}

}  // namespace adakit::cli
