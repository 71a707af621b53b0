// Data-parallel training of an nn::Sequential as a program sees it, free of MPI types: one rank's
// session under mpirun (dist/session.hpp implements it over adakit::dist), so that a program builds
// and reads the same with and without MPI. fit() itself sees only train::Replicas (fit.hpp).
//
//   std::unique_ptr<train::DataParallelSession> s = ...;  // dist::TrainSession under mpirun
//   options.replicas = s->attach(model, *optimizer);      // after restoring a checkpoint, if any
//   train::fit(model, *optimizer, data, nullptr, objective, options, callbacks);
//   s->detach();                                          // before model and optimizer go
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::train {

// The world size mpirun announces in the environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_SIZE;
// 0: this process was not started by mpirun).
int mpirun_world_size();

// What a data-parallel session is asked for (adakit train --dist, --dist-bucket-kb).
struct DataParallelChoice {
  std::string mode = "replicated";  // replicated | sharded (dist::Mode)
  std::int64_t bucket_kb = 256;     // replicated: gradient allreduce bucket size in KiB
  // UsageError: "--dist must be replicated or sharded", "--dist-bucket-kb must be >= 1".
  void validate() const;
};

class DataParallelSession {
 public:
  virtual ~DataParallelSession() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Collective: data parallelism over `model` and `optimizer` (already restored from a checkpoint,
  // if resuming). Returns what FitOptions::replicas takes; owned here.
  virtual Replicas* attach(nn::Sequential& model, optim::Optimizer& optimizer) = 0;
  // Lets go of the model and the optimizer (before they are destroyed): drops what attach() and
  // checkpoint_writer() made.
  virtual void detach() = 0;
  // A checkpoint writer for the attached run (collective; rank 0 writes). Owned here.
  virtual Callback* checkpoint_writer(const std::filesystem::path& path, nn::Sequential& model,
                                      optim::Optimizer& optimizer, std::int64_t every_batches,
                                      std::map<std::string, std::string> metadata) = 0;
  virtual std::int64_t checkpoints_written() const = 0;
  // Optimizer state bytes this rank holds.
  virtual std::int64_t state_bytes() const = 0;
  // Ranks, mode, bytes this rank handed to MPI per step against the analytic minimum, state bytes.
  virtual nlohmann::json report() const = 0;
  // Ends every rank of the job with this message (rank and count prefixed) and exit code.
  [[noreturn]] virtual void abort(const std::string& why, int code) = 0;
};

}  // namespace adakit::train
