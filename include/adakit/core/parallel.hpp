// Threads: one global thread count (OpenMP underneath) and parallel_for over contiguous ranges.
// Public headers stay free of OpenMP pragmas; the work function is called once per chunk.
#pragma once
#include <cstdint>
#include <functional>

namespace adakit {

// Threads used by adakit's kernels. Defaults to OpenMP's maximum (OMP_NUM_THREADS or the cores).
int num_threads();
// n <= 0 restores the default.
void set_num_threads(int n);

// Calls fn(begin, end) over contiguous chunks covering [0, n), one chunk per thread, chunk bounds
// aligned to 16 elements. Runs inline when n < 2 * grain or one thread is set. Deterministic split
// for a given n and thread count.
void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace adakit
