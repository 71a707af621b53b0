// run_process: exit status, both streams captured (also past a pipe's buffer), arguments passed as is.
#include "adakit/core/process.hpp"

#include <gtest/gtest.h>

#include "adakit/core/error.hpp"

TEST(RunProcess, CapturesBothStreamsAndTheExitStatus) {
  const auto r = adakit::run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(RunProcess, ArgumentsAreNotSplitByAShell) {
  const auto r = adakit::run_process({"/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "*", ""});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "a b|*||");
}

TEST(RunProcess, DrainsBothPipesPastTheirBuffers) {
  const auto r = adakit::run_process({"/bin/sh", "-c", "head -c 300000 /dev/zero >&2; head -c 200000 /dev/zero"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.size(), 200000u);
  EXPECT_EQ(r.err.size(), 300000u);
}

TEST(RunProcess, SignalAndMissingProgram) {
  EXPECT_EQ(adakit::run_process({"/bin/sh", "-c", "kill -9 $$"}).code, 128 + 9);
  EXPECT_THROW(adakit::run_process({"/nonexistent/adakit-test-program"}), adakit::Error);
}
