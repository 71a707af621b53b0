// UTF-8 decoding, lower-casing and word characters for the text analyzer (text.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/text.hpp"
#include "text_utf8.hpp"

namespace adakit::data {
namespace detail {

std::size_t decode_utf8(std::string_view s, std::size_t pos, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, value = b0 & 0x1Fu, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, value = b0 & 0x0Fu, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, value = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;  // continuation byte, 0xC0/0xC1 (always overlong), 0xF5..0xFF
  }
  if (pos + len > s.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0u) != 0x80u) return 0;
    value = (value << 6) | (b & 0x3Fu);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  cp = value;
  return len;
}

void encode_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace detail

bool is_valid_utf8(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t len = detail::decode_utf8(text, pos, cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

namespace {

struct Range {
  char32_t lo, hi;
};

// Code points >= U+0080 that are not word characters (punctuation, symbols, spaces, controls, format
// characters, combining marks, private use), sorted. Everything else non-ASCII is a word character.
constexpr Range kNonWord[] = {
    {0x0080, 0x00A9},   {0x00AB, 0x00B1},    {0x00B4, 0x00B4},   {0x00B6, 0x00B8},   {0x00BB, 0x00BB},
    {0x00BF, 0x00BF},   {0x00D7, 0x00D7},    {0x00F7, 0x00F7},   {0x02C2, 0x02C5},   {0x02D2, 0x02DF},
    {0x02E5, 0x02EB},   {0x02ED, 0x02ED},    {0x02EF, 0x036F},   {0x0375, 0x0375},   {0x0378, 0x0379},
    {0x037E, 0x037E},   {0x0380, 0x0385},    {0x0387, 0x0387},   {0x038B, 0x038B},   {0x038D, 0x038D},
    {0x03A2, 0x03A2},   {0x03F6, 0x03F6},    {0x0482, 0x0489},   {0x0530, 0x0530},   {0x0557, 0x0558},
    {0x055A, 0x055F},   {0x0589, 0x058F},    {0x0591, 0x05CF},   {0x05EB, 0x05EE},   {0x05F3, 0x061F},
    {0x064B, 0x065F},   {0x066A, 0x066D},    {0x0670, 0x0670},   {0x06D4, 0x06D4},   {0x06D6, 0x06E4},
    {0x06E7, 0x06ED},   {0x0964, 0x0965},    {0x0970, 0x0970},   {0x0E3F, 0x0E3F},   {0x0E4F, 0x0E4F},
    {0x0E5A, 0x0E5B},   {0x1680, 0x1680},    {0x1800, 0x180F},   {0x1AB0, 0x1AFF},   {0x1DC0, 0x1DFF},
    {0x1FBD, 0x1FBD},   {0x1FBF, 0x1FC1},    {0x1FCD, 0x1FCF},   {0x1FDD, 0x1FDF},   {0x1FED, 0x1FEF},
    {0x1FFD, 0x1FFE},   {0x2000, 0x206F},    {0x207A, 0x207E},   {0x208A, 0x208E},   {0x20A0, 0x20FF},
    {0x2100, 0x2101},   {0x2103, 0x2106},    {0x2108, 0x2109},   {0x2114, 0x2114},   {0x2116, 0x2118},
    {0x211E, 0x2123},   {0x2125, 0x2125},    {0x2127, 0x2127},   {0x2129, 0x2129},   {0x212E, 0x212E},
    {0x213A, 0x213B},   {0x2140, 0x2144},    {0x214A, 0x214D},   {0x214F, 0x214F},   {0x218A, 0x245F},
    {0x249C, 0x24E9},   {0x2500, 0x2775},    {0x2794, 0x2BFF},   {0x2CE5, 0x2CEA},   {0x2CEF, 0x2CF1},
    {0x2CF9, 0x2CFC},   {0x2CFE, 0x2CFF},    {0x2DE0, 0x2E2E},   {0x2E30, 0x2FFF},   {0x3000, 0x3004},
    {0x3008, 0x3020},   {0x302A, 0x3030},    {0x3036, 0x3037},   {0x303D, 0x303F},   {0x3099, 0x309C},
    {0x30A0, 0x30A0},   {0x30FB, 0x30FB},    {0x3190, 0x3191},   {0x31C0, 0x31EF},   {0x3200, 0x321F},
    {0x322A, 0x3247},   {0x3250, 0x3250},    {0x3260, 0x327F},   {0x328A, 0x32B0},   {0x32C0, 0x33FF},
    {0x4DC0, 0x4DFF},   {0xA490, 0xA4CF},    {0xA4FE, 0xA4FF},   {0xA60D, 0xA60F},   {0xA66F, 0xA67E},
    {0xA69E, 0xA69F},   {0xA6F0, 0xA6F7},    {0xA700, 0xA716},   {0xA720, 0xA721},   {0xA789, 0xA78A},
    {0xD800, 0xF8FF},   {0xFB29, 0xFB29},    {0xFD3E, 0xFD3F},   {0xFDFC, 0xFDFF},   {0xFE00, 0xFE6F},
    {0xFEFF, 0xFEFF},   {0xFF01, 0xFF0F},    {0xFF1A, 0xFF20},   {0xFF3B, 0xFF40},   {0xFF5B, 0xFF65},
    {0xFFE0, 0xFFFF},   {0x1D000, 0x1D24F},  {0x1F000, 0x1F0FF}, {0x1F10D, 0x1FBEF}, {0x1FBFA, 0x1FBFF},
    {0xE0000, 0xE0FFF}, {0xF0000, 0x10FFFF},
};

constexpr bool sorted_disjoint() {
  for (std::size_t i = 0; i < std::size(kNonWord); ++i) {
    if (kNonWord[i].lo > kNonWord[i].hi) return false;
    if (i > 0 && kNonWord[i - 1].hi >= kNonWord[i].lo) return false;
  }
  return true;
}
static_assert(sorted_disjoint(), "kNonWord must be sorted and disjoint");

// Latin Extended-B capitals whose lower case is not the next code point: {capital, small}, sorted.
constexpr std::pair<char32_t, char32_t> kLatinExtBLower[] = {
    {0x181, 0x253}, {0x182, 0x183}, {0x184, 0x185}, {0x186, 0x254},  {0x187, 0x188}, {0x189, 0x256}, {0x18A, 0x257},
    {0x18B, 0x18C}, {0x18E, 0x1DD}, {0x18F, 0x259}, {0x190, 0x25B},  {0x191, 0x192}, {0x193, 0x260}, {0x194, 0x263},
    {0x196, 0x269}, {0x197, 0x268}, {0x198, 0x199}, {0x19C, 0x26F},  {0x19D, 0x272}, {0x19F, 0x275}, {0x1A6, 0x280},
    {0x1A7, 0x1A8}, {0x1A9, 0x283}, {0x1AC, 0x1AD}, {0x1AE, 0x288},  {0x1AF, 0x1B0}, {0x1B1, 0x28A}, {0x1B2, 0x28B},
    {0x1B3, 0x1B4}, {0x1B5, 0x1B6}, {0x1B7, 0x292}, {0x1B8, 0x1B9},  {0x1BC, 0x1BD}, {0x1C4, 0x1C6}, {0x1C5, 0x1C6},
    {0x1C7, 0x1C9}, {0x1C8, 0x1C9}, {0x1CA, 0x1CC}, {0x1CB, 0x1CC},  {0x1F1, 0x1F3}, {0x1F2, 0x1F3}, {0x1F4, 0x1F5},
    {0x1F6, 0x195}, {0x1F7, 0x1BF}, {0x220, 0x19E}, {0x23A, 0x2C65}, {0x23B, 0x23C}, {0x23D, 0x19A}, {0x23E, 0x2C66},
    {0x241, 0x242}, {0x243, 0x180}, {0x244, 0x289}, {0x245, 0x28C},
};
static_assert(std::is_sorted(std::begin(kLatinExtBLower), std::end(kLatinExtBLower)), "kLatinExtBLower is sorted");

// Simple (one code point) lower-case mapping for the blocks text.hpp lists; cp itself elsewhere.
char32_t lower_simple(char32_t c) {
  const auto even_to_odd = [c](char32_t lo, char32_t hi) { return c >= lo && c <= hi && (c - lo) % 2 == 0; };
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c < 0x100) return c >= 0xC0 && c <= 0xDE && c != 0xD7 ? c + 0x20 : c;
  if (c < 0x180) {               // Latin Extended-A
    if (c == 0x130) return 'i';  // full mapping adds U+0307; see to_lower_utf8
    if (c == 0x178) return 0xFF;
    if (even_to_odd(0x100, 0x12F) || even_to_odd(0x132, 0x137) || even_to_odd(0x14A, 0x177)) return c + 1;
    if ((c >= 0x139 && c <= 0x148 && c % 2 == 1) || (c >= 0x179 && c <= 0x17E && c % 2 == 1)) return c + 1;
    return c;
  }
  if (c < 0x250) {  // Latin Extended-B
    const auto* it = std::lower_bound(std::begin(kLatinExtBLower), std::end(kLatinExtBLower), c,
                                      [](const auto& pair, char32_t v) { return pair.first < v; });
    if (it != std::end(kLatinExtBLower) && it->first == c) return it->second;
    if (even_to_odd(0x1A0, 0x1A5) || even_to_odd(0x1DE, 0x1EF) || even_to_odd(0x1F8, 0x21F) ||
        even_to_odd(0x222, 0x233) || even_to_odd(0x246, 0x24F))
      return c + 1;
    if (c >= 0x1CD && c <= 0x1DC && c % 2 == 1) return c + 1;
    return c;
  }
  if (c >= 0x370 && c < 0x400) {  // Greek and Coptic
    if (even_to_odd(0x370, 0x373) || c == 0x376 || even_to_odd(0x3D8, 0x3EF) || c == 0x3F7 || c == 0x3FA) return c + 1;
    if (c == 0x37F) return 0x3F3;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
    if (c == 0x3CF) return 0x3D7;
    if (c == 0x3F4) return 0x3B8;
    if (c == 0x3F9) return 0x3F2;
    if (c >= 0x3FD) return c - 130;  // U+03FD..U+03FF -> U+037B..U+037D
    return c;
  }
  if (c >= 0x400 && c < 0x530) {  // Cyrillic, Cyrillic Supplement
    if (c < 0x410) return c + 80;
    if (c < 0x430) return c + 32;
    if (even_to_odd(0x460, 0x481) || even_to_odd(0x48A, 0x4BF) || even_to_odd(0x4D0, 0x52F)) return c + 1;
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE && c % 2 == 1) return c + 1;
    return c;
  }
  if (c >= 0x531 && c <= 0x556) return c + 48;                                      // Armenian
  if ((c >= 0x10A0 && c <= 0x10C5) || c == 0x10C7 || c == 0x10CD) return c + 7264;  // Georgian -> U+2D00..
  if (c >= 0x1E00 && c < 0x1F00) {                                                  // Latin Extended Additional
    if (c == 0x1E9E) return 0xDF;
    if (even_to_odd(0x1E00, 0x1E95) || even_to_odd(0x1EA0, 0x1EFF)) return c + 1;
    return c;
  }
  if (c == 0x2126) return 0x3C9;                                                 // Ohm sign
  if (c == 0x212A) return 'k';                                                   // Kelvin sign
  if (c == 0x212B) return 0xE5;                                                  // Angstrom sign
  if (c == 0x2132) return 0x214E;                                                // turned F
  if (c >= 0x2160 && c <= 0x216F) return c + 16;                                 // Roman numerals
  if (c == 0x2183) return 0x2184;                                                // reversed C
  if (c >= 0x24B6 && c <= 0x24CF) return c + 26;                                 // circled Latin capitals
  if (c >= 0x2C00 && c <= 0x2C2F) return c + 48;                                 // Glagolitic
  if (even_to_odd(0xA640, 0xA66D) || even_to_odd(0xA680, 0xA69B)) return c + 1;  // Cyrillic Extended-B
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;                                 // fullwidth Latin capitals
  if (c >= 0x10400 && c <= 0x10427) return c + 40;                               // Deseret
  if (c >= 0x1E900 && c <= 0x1E921) return c + 34;                               // Adlam
  return c;
}

// Case_Ignorable (Unicode: Mn, Me, Cf, Lm, Sk and the word-internal quotes and stops) for the
// final-sigma rule, restricted to the scripts that rule meets: ASCII and Latin-1 signs, spacing modifier
// letters and combining marks, Greek tonos, General Punctuation quotes and format characters, combining
// marks for symbols, variation selectors, half marks, fullwidth apostrophe / stop / colon.
constexpr Range kCaseIgnorable[] = {
    {0x0027, 0x0027}, {0x002E, 0x002E}, {0x003A, 0x003A}, {0x005E, 0x005E}, {0x0060, 0x0060}, {0x00A8, 0x00A8},
    {0x00AD, 0x00AD}, {0x00AF, 0x00AF}, {0x00B4, 0x00B4}, {0x00B7, 0x00B8}, {0x02B0, 0x036F}, {0x0374, 0x0375},
    {0x037A, 0x037A}, {0x0384, 0x0385}, {0x0387, 0x0387}, {0x0483, 0x0489}, {0x0559, 0x0559}, {0x055F, 0x055F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x1FBD, 0x1FBD}, {0x1FBF, 0x1FC1}, {0x1FCD, 0x1FCF}, {0x1FDD, 0x1FDF},
    {0x1FED, 0x1FEF}, {0x1FFD, 0x1FFE}, {0x200B, 0x200F}, {0x2018, 0x2019}, {0x2024, 0x2024}, {0x2027, 0x2027},
    {0x202A, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20F0}, {0xFE00, 0xFE0F}, {0xFE13, 0xFE13}, {0xFE20, 0xFE2F},
    {0xFE52, 0xFE52}, {0xFE55, 0xFE55}, {0xFEFF, 0xFEFF}, {0xFF07, 0xFF07}, {0xFF0E, 0xFF0E}, {0xFF1A, 0xFF1A},
};

bool in_ranges(std::span<const Range> ranges, char32_t cp) {
  const auto it =
      std::upper_bound(ranges.begin(), ranges.end(), cp, [](char32_t v, const Range& r) { return v < r.lo; });
  return it != ranges.begin() && cp <= std::prev(it)->hi;
}

bool is_case_ignorable(char32_t c) { return in_ranges(kCaseIgnorable, c); }

// Cased (has upper / lower case) for the final-sigma rule: letters of the bicameral scripts (Latin, Greek,
// Cyrillic, Armenian, Georgian, Cherokee, Glagolitic, Coptic, Deseret, Osage, Adlam, ...), digits and
// uncased letters excluded.
bool is_cased(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  if (!is_word_code_point(c) || is_case_ignorable(c)) return false;
  if (c < 0x590) return c != 0xB2 && c != 0xB3 && c != 0xB9 && (c < 0xBC || c > 0xBE) && (c < 0x483 || c > 0x489);
  constexpr Range kCasedScripts[] = {{0x10A0, 0x10FF},   {0x13A0, 0x13FF},   {0x1C80, 0x1CBF},   {0x1D00, 0x1FFF},
                                     {0x2C00, 0x2D2F},   {0xA640, 0xA69F},   {0xA720, 0xA7FF},   {0xAB30, 0xABBF},
                                     {0xFB00, 0xFB17},   {0xFF21, 0xFF5A},   {0x10400, 0x104FF}, {0x10C80, 0x10CFF},
                                     {0x118A0, 0x118DF}, {0x16E40, 0x16E7F}, {0x1E900, 0x1E94F}};
  return in_ranges(kCasedScripts, c);
}

}  // namespace

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  return cp <= 0x10FFFF && !in_ranges(kNonWord, cp);
}

std::string to_lower_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  // The last code point before this one that is not case-ignorable (0 at the start or after an invalid byte).
  char32_t prev = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const std::size_t len = detail::decode_utf8(text, pos, cp);
    if (len == 0) {
      out.push_back(text[pos]);
      ++pos;
      prev = 0;
      continue;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    } else if (cp == 0x130) {
      out.push_back('i');
      detail::encode_utf8(0x307, out);
    } else if (cp == 0x3A3) {
      // Final sigma (Python's rule): after a cased letter and not before one, skipping case-ignorable
      // code points on both sides.
      char32_t next = 0;  // the next code point that is not case-ignorable; 0 at the end or an invalid byte
      for (std::size_t p = pos + len; p < text.size();) {
        char32_t c = 0;
        const std::size_t n = detail::decode_utf8(text, p, c);
        if (n == 0) break;
        if (!is_case_ignorable(c)) {
          next = c;
          break;
        }
        p += n;
      }
      const bool final = is_cased(prev) && !is_cased(next);
      detail::encode_utf8(final ? 0x3C2 : 0x3C3, out);
    } else {
      detail::encode_utf8(lower_simple(cp), out);
    }
    if (!is_case_ignorable(cp)) prev = cp;
    pos += len;
  }
  return out;
}

std::vector<std::string> tokenize(std::string_view text, bool lowercase) {
  std::string lowered;
  if (lowercase) {
    lowered = to_lower_utf8(text);
    text = lowered;
  }
  std::vector<std::string> tokens;
  std::size_t start = 0, word_chars = 0;
  const auto flush = [&](std::size_t end) {
    if (word_chars >= 2) tokens.emplace_back(text.substr(start, end - start));
    word_chars = 0;
  };
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    std::size_t len = detail::decode_utf8(text, pos, cp);
    const bool word = len > 0 && is_word_code_point(cp);
    if (len == 0) len = 1;
    if (word) {
      if (word_chars == 0) start = pos;
      ++word_chars;
    } else {
      flush(pos);
    }
    pos += len;
  }
  flush(text.size());
  return tokens;
}

std::vector<std::string> word_ngrams(std::span<const std::string> tokens, std::int32_t min_n, std::int32_t max_n) {
  if (min_n < 1 || max_n < min_n)
    throw UsageError(
        "n-gram range (" + std::to_string(min_n) + ", " + std::to_string(max_n) + ") needs 1 <= min <= max",
        {"", 0, "ngram_range"});
  const auto n_tokens = static_cast<std::int64_t>(tokens.size());
  std::vector<std::string> out;
  for (std::int64_t n = min_n; n <= max_n && n <= n_tokens; ++n) {
    for (std::int64_t i = 0; i + n <= n_tokens; ++i) {
      std::string gram = tokens[static_cast<std::size_t>(i)];
      for (std::int64_t k = 1; k < n; ++k) gram.append(" ").append(tokens[static_cast<std::size_t>(i + k)]);
      out.push_back(std::move(gram));
    }
  }
  return out;
}

}  // namespace adakit::data
