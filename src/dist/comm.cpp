// adakit::dist::Comm: see include/adakit/dist/comm.hpp.
#include "adakit/dist/comm.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>

#include "adakit/core/error.hpp"

namespace adakit::dist {
namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

int as_count(std::size_t n, const char* call) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw UsageError(std::string(call) + ": buffer of " + std::to_string(n) +
                     " elements exceeds MPI's int count; split it into buckets");
  return static_cast<int>(n);
}

std::vector<int> displacements(std::span<const int> counts) {
  std::vector<int> displs(counts.size(), 0);
  long long at = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] < 0) throw UsageError("dist: negative count for rank " + std::to_string(r));
    if (at > std::numeric_limits<int>::max()) throw UsageError("dist: displacement exceeds MPI's int range");
    displs[r] = static_cast<int>(at);
    at += counts[r];
  }
  return displs;
}

}  // namespace

Environment::Environment(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return;
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  owns_ = true;
  // Errors come back as return codes (Comm turns them into adakit::Error), instead of aborting.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

Environment::~Environment() {
  if (!owns_) return;
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

bool Environment::launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}

Request::Request(Request&& other) noexcept : request_(other.request_) { other.request_ = MPI_REQUEST_NULL; }

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
    request_ = other.request_;
    other.request_ = MPI_REQUEST_NULL;
  }
  return *this;
}

Request::~Request() {
  if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
}

void Request::wait() {
  if (request_ == MPI_REQUEST_NULL) return;
  check(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
}

bool Request::test() {
  if (request_ == MPI_REQUEST_NULL) return true;
  int done = 0;
  check(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), "MPI_Test");
  return done != 0;
}

Comm::Comm(MPI_Comm comm) : comm_(comm) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Comm Comm::world() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) throw Error("dist: MPI is not initialised (construct adakit::dist::Environment first)");
  return Comm(MPI_COMM_WORLD);
}

void Comm::barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

void Comm::allreduce_sum(std::span<float> data) {
  const int n = as_count(data.size(), "MPI_Allreduce");
  traffic_.allreduce_bytes += data.size_bytes();
  ++traffic_.calls;
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), n, MPI_FLOAT, MPI_SUM, comm_), "MPI_Allreduce");
}

void Comm::allreduce_sum(std::span<double> data) {
  const int n = as_count(data.size(), "MPI_Allreduce");
  traffic_.allreduce_bytes += data.size_bytes();
  ++traffic_.calls;
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), n, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
}

void Comm::allreduce_sum(std::span<std::int64_t> data) {
  const int n = as_count(data.size(), "MPI_Allreduce");
  traffic_.allreduce_bytes += data.size_bytes();
  ++traffic_.calls;
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), n, MPI_INT64_T, MPI_SUM, comm_), "MPI_Allreduce");
}

Request Comm::iallreduce_sum(std::span<float> data) {
  const int n = as_count(data.size(), "MPI_Iallreduce");
  traffic_.allreduce_bytes += data.size_bytes();
  ++traffic_.calls;
  Request request;
  check(MPI_Iallreduce(MPI_IN_PLACE, data.data(), n, MPI_FLOAT, MPI_SUM, comm_, &request.request_),
        "MPI_Iallreduce");
  return request;
}

void Comm::allreduce_max(std::span<std::int64_t> data) {
  const int n = as_count(data.size(), "MPI_Allreduce");
  ++traffic_.calls;
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), n, MPI_INT64_T, MPI_MAX, comm_), "MPI_Allreduce");
}

void Comm::reduce_scatter_sum(std::span<const float> in, std::span<float> out, std::span<const int> counts) {
  if (counts.size() != static_cast<std::size_t>(size_))
    throw UsageError("dist: reduce_scatter needs one count per rank");
  const long long total = std::accumulate(counts.begin(), counts.end(), 0LL);
  if (static_cast<long long>(in.size()) != total || static_cast<int>(out.size()) != counts[rank_])
    throw UsageError("dist: reduce_scatter buffer sizes do not match the counts");
  traffic_.reduce_scatter_bytes += in.size_bytes();
  ++traffic_.calls;
  check(MPI_Reduce_scatter(in.data(), out.data(), counts.data(), MPI_FLOAT, MPI_SUM, comm_),
        "MPI_Reduce_scatter");
}

void Comm::allgather(std::span<const float> mine, std::span<float> all, std::span<const int> counts) {
  if (counts.size() != static_cast<std::size_t>(size_))
    throw UsageError("dist: allgather needs one count per rank");
  const std::vector<int> displs = displacements(counts);
  const long long total = std::accumulate(counts.begin(), counts.end(), 0LL);
  if (static_cast<int>(mine.size()) != counts[rank_] || static_cast<long long>(all.size()) != total)
    throw UsageError("dist: allgather buffer sizes do not match the counts");
  traffic_.allgather_bytes += mine.size_bytes();
  ++traffic_.calls;
  check(MPI_Allgatherv(mine.data(), counts[rank_], MPI_FLOAT, all.data(), counts.data(), displs.data(),
                       MPI_FLOAT, comm_),
        "MPI_Allgatherv");
}

std::vector<std::byte> Comm::alltoallv(std::span<const std::byte> send, std::span<const int> send_counts,
                                       std::vector<int>& recv_counts) {
  if (send_counts.size() != static_cast<std::size_t>(size_))
    throw UsageError("dist: alltoallv needs one count per rank");
  const std::vector<int> send_displs = displacements(send_counts);
  const long long total = std::accumulate(send_counts.begin(), send_counts.end(), 0LL);
  if (static_cast<long long>(send.size()) != total)
    throw UsageError("dist: alltoallv send buffer does not match the counts");
  recv_counts.assign(static_cast<std::size_t>(size_), 0);
  check(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm_), "MPI_Alltoall");
  const std::vector<int> recv_displs = displacements(recv_counts);
  const long long recv_total = std::accumulate(recv_counts.begin(), recv_counts.end(), 0LL);
  std::vector<std::byte> recv(static_cast<std::size_t>(recv_total));
  for (int r = 0; r < size_; ++r)
    if (r != rank_) traffic_.alltoall_bytes += static_cast<std::uint64_t>(send_counts[static_cast<std::size_t>(r)]);
  ++traffic_.calls;
  check(MPI_Alltoallv(send.data(), send_counts.data(), send_displs.data(), MPI_BYTE, recv.data(),
                      recv_counts.data(), recv_displs.data(), MPI_BYTE, comm_),
        "MPI_Alltoallv");
  return recv;
}

void Comm::gather(std::span<const float> mine, std::span<float> all, std::span<const int> counts, int root) {
  if (counts.size() != static_cast<std::size_t>(size_)) throw UsageError("dist: gather needs one count per rank");
  const std::vector<int> displs = displacements(counts);
  const long long total = std::accumulate(counts.begin(), counts.end(), 0LL);
  if (static_cast<int>(mine.size()) != counts[rank_] || (rank_ == root && static_cast<long long>(all.size()) != total))
    throw UsageError("dist: gather buffer sizes do not match the counts");
  traffic_.gather_bytes += mine.size_bytes();
  ++traffic_.calls;
  check(MPI_Gatherv(mine.data(), counts[rank_], MPI_FLOAT, all.data(), counts.data(), displs.data(), MPI_FLOAT, root,
                    comm_),
        "MPI_Gatherv");
}

void Comm::broadcast(std::span<float> data, int root) {
  check(MPI_Bcast(data.data(), as_count(data.size(), "MPI_Bcast"), MPI_FLOAT, root, comm_), "MPI_Bcast");
}

void Comm::broadcast(std::span<std::byte> data, int root) {
  check(MPI_Bcast(data.data(), as_count(data.size(), "MPI_Bcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
}

void Comm::abort(const std::string& why, int code) {
  std::fprintf(stderr, "adakit: rank %d of %d: %s\n", rank_, size_, why.c_str());
  std::fflush(stderr);
  MPI_Abort(comm_, code);
  std::abort();  // MPI_Abort does not return; keep [[noreturn]] honest if it ever does
}

}  // namespace adakit::dist
