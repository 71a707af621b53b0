// --resume and --checkpoint of a training run: see include/adakit/io/run.hpp.
#include "adakit/io/run.hpp"

#include "adakit/io/linear_model.hpp"

namespace adakit::io {

train::FitState resume_run(const std::string& dir, const nlohmann::json& run, nn::Sequential& model,
                           optim::Optimizer& optimizer) {
  const auto path = checkpoint_to_resume(dir);
  const Checkpoint c = read_checkpoint(path);
  check_same_run(saved_run_identity(c.metadata, path.string()), run, path.string());
  return restore_checkpoint(c, model, optimizer, path.string());
}

linear::FitState resume_run(const std::string& dir, const nlohmann::json& run, linear::LinearModel& model,
                            linear::LinearOptimizer& optimizer) {
  const auto path = checkpoint_to_resume(dir);
  const LinearCheckpoint c = read_linear_checkpoint(path);
  check_same_run(saved_run_identity(c.metadata, path.string()), run, path.string());
  return restore_linear_checkpoint(c, model, optimizer, path.string());
}

RunCheckpoints::RunCheckpoints(const std::string& dir, nn::Sequential& model, optim::Optimizer& optimizer,
                               std::int64_t every_batches, std::map<std::string, std::string> metadata,
                               train::DataParallelSession* parallel)
    : parallel_(parallel) {
  if (dir.empty()) return;
  if (parallel == nullptr || parallel->rank() == 0) make_checkpoint_dir(dir);
  if (parallel != nullptr) {
    callback_ = parallel->checkpoint_writer(checkpoint_file(dir), model, optimizer, every_batches, std::move(metadata));
  } else {
    writer_.emplace(checkpoint_file(dir), model, optimizer, every_batches, std::move(metadata));
    callback_ = &*writer_;
  }
}

std::int64_t RunCheckpoints::written() const {
  return parallel_ != nullptr ? parallel_->checkpoints_written() : writer_ ? writer_->saves() : 0;
}

linear::FitCheckpoints linear_run_checkpoints(const std::string& dir, std::int64_t every, const linear::LinearModel& model,
                                              const linear::LinearOptimizer& optimizer, std::uint64_t seed,
                                              std::int64_t batch_size, std::map<std::string, std::string> metadata,
                                              std::int64_t& written, const linear::FitState* resume) {
  linear::FitCheckpoints c{.every = every, .save = {}, .resume = resume};
  if (dir.empty()) return c;
  make_checkpoint_dir(dir);
  c.save = [&model, &optimizer, &written, dir, seed, batch_size, metadata = std::move(metadata)](const linear::FitState& st) {
    save_linear_checkpoint(checkpoint_file(dir), model, optimizer.name(), optimizer.option_map(), optimizer.state(model), st,
                           seed, batch_size, metadata);
    ++written;
  };
  return c;
}

}  // namespace adakit::io
