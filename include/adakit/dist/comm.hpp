// adakit::dist — data-parallel training over MPI (built only when MPI is found: -DADAKIT_MPI=ON, the
// default when present; target adakit::dist). The rest of the library never includes this folder.
//
// Comm is a thin, typed wrapper over an MPI communicator: the collectives the trainers use, each
// counting the payload bytes this rank hands to MPI (Traffic), so that bytes per step can be compared
// with the analytic minimum of each mode. MPI errors are returned, not fatal (MPI_ERRORS_RETURN), and
// become adakit::Error with the call's name and MPI's own message.
//
// Threading: MPI is initialised with MPI_THREAD_FUNNELED (only the thread that called Environment's
// constructor makes MPI calls); OpenMP regions inside a step never call MPI.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <mpi.h>

namespace adakit::dist {

// Payload bytes this rank passed to MPI as a sender, by kind of call (a counter, not a wire measurement;
// see docs/distributed.md for how the wire bytes of each collective relate to it).
struct Traffic {
  std::uint64_t allreduce_bytes = 0;       // size of the buffer given to (I)Allreduce
  std::uint64_t reduce_scatter_bytes = 0;  // whole input buffer of Reduce_scatter
  std::uint64_t allgather_bytes = 0;       // this rank's contribution to Allgatherv
  std::uint64_t alltoall_bytes = 0;        // bytes this rank sends to others (not to itself) in Alltoallv
  std::uint64_t gather_bytes = 0;          // this rank's contribution to Gatherv (checkpoints)
  std::uint64_t calls = 0;
  std::uint64_t total() const {
    return allreduce_bytes + reduce_scatter_bytes + allgather_bytes + alltoall_bytes + gather_bytes;
  }
};

// MPI_Init_thread / MPI_Finalize, once per process. Safe to construct when MPI is already initialised
// (then it neither initialises nor finalises).
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  // True when this process was started by mpirun/mpiexec (OMPI_COMM_WORLD_SIZE / PMI_SIZE set).
  static bool launched_by_mpirun();

 private:
  bool owns_ = false;
};

// A nonblocking collective in flight; wait() finishes it (the destructor waits too, never leaks).
class Request {
 public:
  Request() = default;
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();
  void wait();
  bool test();  // true when complete (then wait() is free)
  bool active() const noexcept { return request_ != MPI_REQUEST_NULL; }

 private:
  friend class Comm;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

class Comm {
 public:
  // MPI_COMM_WORLD (Environment must be alive).
  static Comm world();
  explicit Comm(MPI_Comm comm);
  MPI_Comm native() const noexcept { return comm_; }

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

  void barrier();
  // Sum over ranks, in place.
  void allreduce_sum(std::span<float> data);
  void allreduce_sum(std::span<double> data);
  void allreduce_sum(std::span<std::int64_t> data);
  Request iallreduce_sum(std::span<float> data);
  // Max over ranks, in place (for agreeing on counts and sizes).
  void allreduce_max(std::span<std::int64_t> data);
  // in: size() blocks, block r of counts[r] elements; out: this rank's block, summed over ranks.
  void reduce_scatter_sum(std::span<const float> in, std::span<float> out, std::span<const int> counts);
  // mine: this rank's block; all: every rank's block in rank order (counts[r] elements each).
  void allgather(std::span<const float> mine, std::span<float> all, std::span<const int> counts);
  // Byte-level all-to-all: send_counts[r] bytes of `send` (at send offsets, packed in rank order) go to
  // rank r; returns what each rank sent here, packed in rank order, with recv_counts filled in.
  std::vector<std::byte> alltoallv(std::span<const std::byte> send, std::span<const int> send_counts,
                                   std::vector<int>& recv_counts);
  // mine: this rank's block; all (read on root only, may be empty elsewhere): every rank's block in
  // rank order (counts[r] elements each).
  void gather(std::span<const float> mine, std::span<float> all, std::span<const int> counts, int root);
  void broadcast(std::span<float> data, int root);
  void broadcast(std::span<std::byte> data, int root);
  // Ends every rank of the job (MPI_Abort) after printing `why` with this rank's number to stderr.
  [[noreturn]] void abort(const std::string& why, int code = 1);

  const Traffic& traffic() const noexcept { return traffic_; }
  void reset_traffic() noexcept { traffic_ = {}; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  Traffic traffic_;
};

}  // namespace adakit::dist
