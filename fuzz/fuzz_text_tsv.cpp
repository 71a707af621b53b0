// libFuzzer target: data::parse_text_tsv (label<TAB>text) on arbitrary bytes, then the vectorizer
// over what parses (tokenizer, n-grams, lower-casing of arbitrary UTF-8).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/data/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto d = adakit::data::parse_text_tsv(text, "fuzz");
    adakit::data::TextVectorizerOptions o;
    o.ngram_max = 2;
    o.weighting = adakit::data::TextWeighting::tfidf;
    adakit::data::TextVectorizer v(o);
    (void)v.fit_transform(d.texts);
  } catch (const adakit::Error&) {
  }
  return 0;
}
