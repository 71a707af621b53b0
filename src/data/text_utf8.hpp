// Internal to src/data: UTF-8 decoding and encoding for the text analyzer.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace adakit::data::detail {

// Decodes the code point starting at s[pos] (pos < s.size()). Returns its length in bytes, or 0 when the
// byte at pos does not start a valid sequence (stray continuation byte, overlong form, surrogate, above
// U+10FFFF, truncated): the caller then treats that one byte as invalid and moves on.
std::size_t decode_utf8(std::string_view s, std::size_t pos, char32_t& cp);

// Appends the UTF-8 encoding of a valid code point.
void encode_utf8(char32_t cp, std::string& out);

}  // namespace adakit::data::detail
