// One rank of `mpirun -np K adakit train` on dense data: MPI (a no-op when already initialised), the
// world communicator, a DataParallel over the model and the optimizer once attached, its gathering
// checkpoint writer, and a report of what each step cost. Implements train::DataParallelSession.
//
//   dist::TrainSession session({.mode = dist::Mode::sharded});
//   train::FitOptions fo{.replicas = session.attach(model, *opt)};
#pragma once
#include <cstdint>
#include <optional>

#include "adakit/dist/comm.hpp"
#include "adakit/dist/data_parallel.hpp"
#include "adakit/train/parallel.hpp"

namespace adakit::dist {

class TrainSession final : public train::DataParallelSession {
 public:
  explicit TrainSession(DataParallelOptions options = {});
  // From the choice's text (after DataParallelChoice::validate): mode, bucket_kb KiB.
  explicit TrainSession(const train::DataParallelChoice& choice);
  ~TrainSession() override { detach(); }

  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  train::Replicas* attach(nn::Sequential& model, optim::Optimizer& optimizer) override;
  void detach() override;
  train::Callback* checkpoint_writer(const std::filesystem::path& path, nn::Sequential& model,
                                     optim::Optimizer& optimizer, std::int64_t every_batches,
                                     std::map<std::string, std::string> metadata) override;
  std::int64_t checkpoints_written() const override { return writer_ ? writer_->saves() : 0; }
  std::int64_t state_bytes() const override { return dp_ ? dp_->state_bytes() : 0; }
  // {"ranks", "mode"} and, once attached: steps, parameters, state_bytes_this_rank, buckets
  // (replicated), mpi_payload_bytes_per_step (Comm::traffic by kind), min_sent_bytes_per_step
  // (2 (K-1)/K * 4N), ms_per_step_in_reduce / _in_step, os_write_bytes_per_step (Linux
  // /proc/self/io "wchar": with Open MPI's TCP transport nearly all of it is the messages sent).
  nlohmann::json report() const override;
  [[noreturn]] void abort(const std::string& why, int code) override { comm_.abort(why, code); }

 private:
  Environment env_;
  Comm comm_;
  DataParallelOptions options_;
  std::optional<DataParallel> dp_;
  std::optional<CheckpointWriter> writer_;
  std::int64_t written_at_attach_ = -1;
};

}  // namespace adakit::dist
