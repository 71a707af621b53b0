#include "adakit/core/error.hpp"

namespace adakit {
namespace {
std::string format(const std::string& message, const ErrorContext& c) {
  std::string where;
  if (!c.file.empty()) {
    where = c.file;
    if (c.line > 0) where += ":" + std::to_string(c.line);
  } else if (c.line > 0) {
    where = "line " + std::to_string(c.line);
  }
  if (!c.field.empty()) {
    if (!where.empty()) where.append(": ");
    where.append("field '").append(c.field).append("'");
  }
  if (where.empty()) return message;
  where.append(": ").append(message);
  return where;
}
}  // namespace

Error::Error(const std::string& message, ErrorContext context)
    : std::runtime_error(format(message, context)), message_(message), context_(std::move(context)) {}

}  // namespace adakit
