// printf into a std::string, for the text the library hands its callers (the CLI prints it as is).
#pragma once
#include <string>

namespace adakit {

// snprintf's formatting, any length.
std::string format_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace adakit
