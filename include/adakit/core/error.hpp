// adakit::Error: every failure the library reports, with where it happened (file, line, field).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace adakit {

// Where a failure was found. Any part may be empty (line 0 = no line).
struct ErrorContext {
  std::string file;
  std::int64_t line = 0;
  std::string field;
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorContext context = {});
  const std::string& message() const noexcept { return message_; }
  const ErrorContext& context() const noexcept { return context_; }

 private:
  std::string message_;
  ErrorContext context_;
};

// A bad argument from the caller (bad option, bad shape). The CLI maps it to exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace adakit
