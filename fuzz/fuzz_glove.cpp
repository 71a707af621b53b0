// libFuzzer target: the GloVe files (embed/): vocab.txt (read_vocabulary), text vectors
// (read_vectors_text, then the queries nearest and analogy over what parses), cooccurrence.bin
// (read_cooccurrences) and binary vectors (read_vectors_binary, read_vectors_binary_words).
// The first byte picks the reader; for the binary vectors the second byte gives the vocabulary size
// (1..4), for the vocabulary + vectors pair the next 2 bytes (little-endian) the vocabulary file's length.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "adakit/core/error.hpp"
#include "adakit/embed/cooccur.hpp"
#include "adakit/embed/vectors.hpp"
#include "adakit/embed/vocab.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace e = adakit::embed;
  static adakit::fuzz::MemFile file("glove"), vocab("glove-vocab");
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 5;
  ++data;
  --size;
  try {
    switch (mode) {
      case 0: {
        const auto v = e::read_vocabulary(file.write(data, size));
        (void)v.id(v.word(1));
        break;
      }
      case 1: {
        const auto v = e::read_vectors_text(file.write(data, size));
        (void)e::nearest(v, v.words().front(), 3);
        if (v.size() >= 3) (void)e::analogy(v, v.words()[0], v.words()[1], v.words()[2], 2);
        break;
      }
      case 2: {
        const auto& path = file.write(data, size);
        (void)e::read_cooccurrences(path).size();
        (void)e::read_cooccurrences(path, 3).size();
        break;
      }
      case 3: {
        if (size < 1) return 0;
        const auto m = e::read_vectors_binary(file.write(data + 1, size - 1), 1 + data[0] % 4);
        (void)m.params.size();
        break;
      }
      default: {
        if (size < 3) return 0;
        const std::size_t split = std::min<std::size_t>(size - 3, data[1] | (std::size_t{data[2]} << 8));
        vocab.write(data + 3, split);
        const auto v = e::read_vectors_binary_words(file.write(data + 3 + split, size - 3 - split), vocab.path(),
                                                    static_cast<e::VectorsModel>(data[0] % 3));
        (void)e::nearest(v, v.words().front(), 2);
        break;
      }
    }
  } catch (const adakit::Error&) {
  }
  return 0;
}
