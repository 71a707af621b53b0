// Prefetch hints: ask for memory that is about to be read (or written) so that its cache misses overlap
// with the work before. A hint changes no value.
//
// Why not __builtin_prefetch alone: GCC (12) counts it as free of side effects, so a function whose
// only work is prefetching is found "looping pure" and, loops being assumed to end in C++, every call
// to it whose result goes unused is deleted. adakit's helpers that prefetch the rows of the batches to
// come were all compiled out that way, unnoticed; an epoch of a batch-of-one sparse model on a table
// larger than the cache took 1.7x as long. The empty volatile asm taking the address is a side effect
// the compiler must keep; it emits no instruction.
#pragma once
#include <cstddef>
#include <cstdint>

namespace adakit {

// One line, for reading (write = false) or for writing.
inline void prefetch_hint(const void* p, bool write = false) {
#if defined(__GNUC__)
  if (write) __builtin_prefetch(p, 1);
  else __builtin_prefetch(p, 0);
  asm volatile("" : : "r"(p));
#else
  (void)p, (void)write;
#endif
}

// Every 64-byte line that [p, p + bytes) lies on (a range that starts mid-line ends on one more line).
inline void prefetch_range(const void* p, std::size_t bytes, bool write = false) {
  const auto first = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
  const auto end = reinterpret_cast<std::uintptr_t>(p) + bytes;
  for (std::uintptr_t a = first; a < end; a += 64) prefetch_hint(reinterpret_cast<const void*>(a), write);
}

}  // namespace adakit
