// Running a program as a child process (posix_spawn, no shell) with its output captured.
#pragma once
#include <string>
#include <vector>

namespace adakit {

struct ProcessResult {
  int code = 0;          // exit status; 128 + the signal when killed by one
  std::string out, err;  // all it wrote to stdout and stderr
};

// Runs argv[0] (a path, not searched in PATH) with argv and this process's environment, and waits for
// it. stdout and stderr are drained together, so neither pipe fills and blocks the child. Error when
// it cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace adakit
