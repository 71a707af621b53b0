// adakit::dist::Comm under mpirun (any number of ranks, including 1): every collective against the
// closed form of what it must return, and the traffic counters against the payload handed to MPI.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/dist/comm.hpp"

namespace {

using adakit::dist::Comm;

TEST(DistComm, AllreduceSumsInPlace) {
  Comm comm = Comm::world();
  const int p = comm.size();
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(comm.rank() + 1) * static_cast<float>(i);
  comm.allreduce_sum(x);
  const float ranks_sum = static_cast<float>(p * (p + 1) / 2);
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], ranks_sum * static_cast<float>(i)) << i;
  EXPECT_EQ(comm.traffic().allreduce_bytes, 4000u);
}

TEST(DistComm, NonblockingAllreduceFinishesOnWait) {
  Comm comm = Comm::world();
  std::vector<float> x(257, 1.0f);
  auto request = comm.iallreduce_sum(x);
  request.wait();
  for (float v : x) ASSERT_EQ(v, static_cast<float>(comm.size()));
}

TEST(DistComm, ReduceScatterThenAllgatherIsAllreduce) {
  Comm comm = Comm::world();
  const int p = comm.size();
  std::vector<int> counts(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) counts[static_cast<std::size_t>(r)] = 3 + r;  // uneven blocks
  const int total = std::accumulate(counts.begin(), counts.end(), 0);
  std::vector<float> in(static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) in[static_cast<std::size_t>(i)] = static_cast<float>(i * (comm.rank() + 1));
  std::vector<float> mine(static_cast<std::size_t>(counts[static_cast<std::size_t>(comm.rank())]));
  comm.reduce_scatter_sum(in, mine, counts);
  std::vector<float> all(static_cast<std::size_t>(total));
  comm.allgather(mine, all, counts);
  const float ranks_sum = static_cast<float>(p * (p + 1) / 2);
  for (int i = 0; i < total; ++i) ASSERT_EQ(all[static_cast<std::size_t>(i)], ranks_sum * static_cast<float>(i));
}

TEST(DistComm, AlltoallvDeliversEachRanksBytes) {
  Comm comm = Comm::world();
  const int p = comm.size();
  // Rank s sends r+1 bytes of value (s*16 + r) to rank r.
  std::vector<int> counts(static_cast<std::size_t>(p));
  std::vector<std::byte> send;
  for (int r = 0; r < p; ++r) {
    counts[static_cast<std::size_t>(r)] = r + 1;
    for (int k = 0; k <= r; ++k) send.push_back(static_cast<std::byte>(comm.rank() * 16 + r));
  }
  std::vector<int> recv_counts;
  const auto recv = comm.alltoallv(send, counts, recv_counts);
  ASSERT_EQ(recv.size(), static_cast<std::size_t>(p * (comm.rank() + 1)));
  std::size_t at = 0;
  for (int s = 0; s < p; ++s) {
    ASSERT_EQ(recv_counts[static_cast<std::size_t>(s)], comm.rank() + 1);
    for (int k = 0; k <= comm.rank(); ++k)
      ASSERT_EQ(recv[at++], static_cast<std::byte>(s * 16 + comm.rank()));
  }
}

TEST(DistComm, BadCountsAreUsageErrors) {
  Comm comm = Comm::world();
  std::vector<float> in(4), out(1);
  std::vector<int> wrong(static_cast<std::size_t>(comm.size() + 1), 1);
  EXPECT_THROW(comm.reduce_scatter_sum(in, out, wrong), adakit::UsageError);
}

}  // namespace

// gtest's main under MPI: only rank 0 prints (the others' listeners are removed); every rank's
// failures still fail the test, because the exit code is the maximum over ranks.
int main(int argc, char** argv) {
  adakit::dist::Environment mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  Comm world = Comm::world();
  if (world.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  std::vector<std::int64_t> worst{failed};
  world.allreduce_max(worst);
  return static_cast<int>(worst[0]);
}
