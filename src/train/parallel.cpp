#include "adakit/train/parallel.hpp"

#include <cstdlib>

#include "adakit/core/error.hpp"

namespace adakit::train {

int mpirun_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

void DataParallelChoice::validate() const {
  if (mode != "replicated" && mode != "sharded") throw UsageError("--dist must be replicated or sharded", {"", 0, "dist"});
  if (bucket_kb < 1) throw UsageError("--dist-bucket-kb must be >= 1", {"", 0, "dist-bucket-kb"});
}

}  // namespace adakit::train
