#include "adakit/embed/vectors.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "adakit/core/error.hpp"
#include "files.hpp"

namespace adakit::embed {
namespace fs = std::filesystem;

VectorsModel vectors_model_from_string(std::string_view name) {
  if (name == "0" || name == "all") return VectorsModel::all;
  if (name == "1" || name == "word") return VectorsModel::word;
  if (name == "2" || name == "sum") return VectorsModel::sum;
  throw UsageError("unknown vectors model '" + std::string(name) + "' (0 all, 1 word, 2 sum)", {"", 0, "model"});
}

std::string_view to_string(VectorsModel m) {
  return m == VectorsModel::all ? "all" : m == VectorsModel::word ? "word" : "sum";
}

namespace {

std::int64_t values_per_word(const GloveModel& m, VectorsModel which) {
  return which == VectorsModel::all ? 2 * (m.dim + 1) : m.dim;
}

// The values a text line (or a query row) holds for word row i, appended to out.
template <class Out>
void row_values(const GloveModel& m, std::int64_t i, VectorsModel which, Out&& out) {
  const auto w = m.word_row(i);
  const auto c = m.context_row(i);
  const auto d = static_cast<std::size_t>(m.dim);
  switch (which) {
    case VectorsModel::all:
      for (double v : w) out(v);
      for (double v : c) out(v);
      break;
    case VectorsModel::word:
      for (std::size_t k = 0; k < d; ++k) out(w[k]);
      break;
    case VectorsModel::sum:
      for (std::size_t k = 0; k < d; ++k) out(w[k] + c[k]);
      break;
  }
}

void check_sizes(const Vocabulary& vocab, const GloveModel& model) {
  if (vocab.size() != model.vocab_size)
    throw UsageError("the vocabulary has " + std::to_string(vocab.size()) + " words, the model " +
                     std::to_string(model.vocab_size) + " rows");
}

}  // namespace

void write_vectors_text(const fs::path& path, const Vocabulary& vocab, const GloveModel& model,
                        const TextVectorsOptions& options) {
  check_sizes(vocab, model);
  if (options.unk_vector && vocab.id("<unk>") != 0)
    throw UsageError("the vocabulary holds <unk>, the name of the unknown-word vector; write without it", {"", 0, "unk"});
  detail::AtomicWriter out(path);
  std::string line;
  const std::int64_t n = values_per_word(model, options.model);
  if (options.header) {
    line = std::to_string(model.vocab_size + (options.unk_vector ? 1 : 0)) + " " + std::to_string(n) + "\n";
    out.write(line);
  }
  for (std::int64_t i = 0; i < model.vocab_size; ++i) {
    line.clear();
    line.append(vocab.words()[static_cast<std::size_t>(i)]);
    row_values(model, i, options.model, [&](double v) {
      line.push_back(' ');
      detail::append_float(line, static_cast<float>(v));
    });
    line.push_back('\n');
    out.write(line);
  }
  if (options.unk_vector) {
    // glove.c: the mean of the last min(100, V) rows (word and context rows, biases included).
    const std::int64_t rare = std::min<std::int64_t>(100, model.vocab_size);
    GloveModel unk;
    unk.vocab_size = 1;
    unk.dim = model.dim;
    unk.params.assign(static_cast<std::size_t>(2 * model.row_size()), 0.0);
    for (std::int64_t a = model.vocab_size - rare; a < model.vocab_size; ++a)
      for (std::int64_t b = 0; b < model.row_size(); ++b) {
        unk.params[static_cast<std::size_t>(b)] += model.word_row(a)[static_cast<std::size_t>(b)] / static_cast<double>(rare);
        unk.params[static_cast<std::size_t>(model.row_size() + b)] +=
            model.context_row(a)[static_cast<std::size_t>(b)] / static_cast<double>(rare);
      }
    line = "<unk>";
    row_values(unk, 0, options.model, [&](double v) {
      line.push_back(' ');
      detail::append_float(line, static_cast<float>(v));
    });
    line.push_back('\n');
    out.write(line);
  }
  out.commit();
}

void write_vectors_binary(const fs::path& path, const GloveModel& model) {
  detail::AtomicWriter out(path);
  out.write(model.params.data(), model.params.size() * sizeof(double));
  out.commit();
}

GloveModel read_vectors_binary(const fs::path& path, std::int64_t vocab_size) {
  if (vocab_size < 1) throw UsageError("read_vectors_binary needs the vocabulary size", {"", 0, "vocab"});
  detail::BinaryReader in(path);
  const std::uint64_t size = in.size();
  const std::uint64_t per_dim = 2 * static_cast<std::uint64_t>(vocab_size) * sizeof(double);
  // d is capped as GloveOptions::vector_size is: a larger d means the file belongs to a smaller vocabulary.
  if (size % per_dim != 0 || size / per_dim < 2 || size / per_dim > 100001)
    throw Error(std::to_string(size) + " bytes is not 2 x " + std::to_string(vocab_size) +
                    " rows x (d + 1) float64 values for any d >= 1: the vectors do not belong to this vocabulary "
                    "(or the file is truncated)",
                {path.string(), 0, ""});
  GloveModel m;
  m.vocab_size = vocab_size;
  m.dim = static_cast<std::int64_t>(size / per_dim) - 1;
  m.params.resize(static_cast<std::size_t>(size / sizeof(double)));
  if (in.read(m.params.data(), static_cast<std::size_t>(size)) != size)
    throw Error("the file shrank while being read", {path.string(), 0, ""});
  m.gradsq.assign(m.params.size(), 1.0);
  return m;
}

WordVectors::WordVectors(std::vector<std::string> words, std::int64_t dim, std::vector<float> values)
    : words_(std::move(words)), dim_(dim), values_(std::move(values)) {
  if (dim_ < 1) throw UsageError("word vectors need at least one dimension");
  if (values_.size() != words_.size() * static_cast<std::size_t>(dim_))
    throw UsageError("values must hold words x dim numbers");
  index_.reserve(words_.size());
  for (std::size_t i = 0; i < words_.size(); ++i)
    if (!index_.emplace(words_[i], static_cast<std::int64_t>(i)).second)
      throw UsageError("duplicate word '" + words_[i] + "'");
}

std::int64_t WordVectors::index(std::string_view word) const {
  const auto it = index_.find(word);
  return it == index_.end() ? -1 : it->second;
}

WordVectors word_vectors(const GloveModel& model, const Vocabulary& vocab, VectorsModel which) {
  check_sizes(vocab, model);
  std::vector<float> values;
  const std::int64_t n = values_per_word(model, which);
  values.reserve(static_cast<std::size_t>(model.vocab_size * n));
  for (std::int64_t i = 0; i < model.vocab_size; ++i)
    row_values(model, i, which, [&](double v) { values.push_back(static_cast<float>(v)); });
  return WordVectors(vocab.words(), n, std::move(values));
}

WordVectors read_vectors_text(const fs::path& path) {
  const std::string text = detail::read_text_file(path);
  const std::string file = path.string();
  std::vector<std::string> words;
  std::vector<float> values;
  std::int64_t dim = -1, dim_line = 0, header_words = -1;
  detail::WordLines seen;
  detail::for_each_line_fields(text, [&](std::int64_t number, const std::vector<std::string_view>& fields) {
    if (fields.empty()) throw Error("empty line", {file, number, ""});
    std::int64_t a = 0, b = 0;  // a "V n" header?
    if (number == 1 && fields.size() == 2 && detail::parse_whole(fields[0], a) && detail::parse_whole(fields[1], b) &&
        a >= 1 && b >= 1) {
      header_words = a;
      dim = b;
      dim_line = 1;
      return;
    }
    const std::int64_t n = static_cast<std::int64_t>(fields.size()) - 1;
    if (n < 1) throw Error("a word without values", {file, number, ""});
    if (dim < 0) {
      dim = n;
      dim_line = number;
    } else if (n != dim) {
      throw Error("dimension mismatch: found " + std::to_string(n) + " values, expected " + std::to_string(dim) +
                      (dim_line == 1 && header_words >= 0 ? " (from the header)" : " (as on line " + std::to_string(dim_line) + ")"),
                  {file, number, ""});
    }
    seen.add(fields[0], number, file);
    words.emplace_back(fields[0]);
    for (std::int64_t k = 1; k <= n; ++k) {
      const auto f = fields[static_cast<std::size_t>(k)];
      float v = 0;
      const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
      if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && !std::isfinite(v)))
        throw Error("'" + std::string(f) + "' is out of float32 range", {file, number, "value " + std::to_string(k)});
      if (r.ec != std::errc() || r.ptr != f.data() + f.size())
        throw Error("'" + std::string(f) + "' is not a number", {file, number, "value " + std::to_string(k)});
      values.push_back(v);
    }
  });
  if (words.empty()) throw Error("no vectors in the file", {file, 0, ""});
  if (header_words >= 0 && header_words != static_cast<std::int64_t>(words.size()))
    throw Error("the header announces " + std::to_string(header_words) + " words, the file holds " +
                    std::to_string(words.size()),
                {file, 1, ""});
  return WordVectors(std::move(words), dim, std::move(values));
}

WordVectors read_vectors_binary_words(const fs::path& path, const fs::path& vocab_path, VectorsModel which) {
  const auto vocab = read_vocabulary(vocab_path);
  const auto model = read_vectors_binary(path, vocab.size());
  return word_vectors(model, vocab, which);
}

namespace {

std::vector<double> unit_row(const WordVectors& v, std::int64_t i) {
  const auto r = v.row(i);
  double nn = 0;
  for (float x : r) nn += static_cast<double>(x) * x;
  const double s = nn > 0 ? 1.0 / std::sqrt(nn) : 0.0;
  std::vector<double> out(r.size());
  for (std::size_t k = 0; k < r.size(); ++k) out[k] = r[k] * s;
  return out;
}

std::int64_t need(const WordVectors& v, std::string_view word) {
  const auto i = v.index(word);
  if (i < 0) throw UsageError("'" + std::string(word) + "' is not in the vectors' vocabulary", {"", 0, "word"});
  return i;
}

std::vector<Neighbour> rank(const WordVectors& v, std::span<const double> q, std::int64_t k,
                            std::span<const std::int64_t> exclude) {
  if (k < 1) throw UsageError("k must be at least 1", {"", 0, "k"});
  double qn = 0;
  for (double x : q) qn += x * x;
  const double qs = qn > 0 ? 1.0 / std::sqrt(qn) : 0.0;
  std::vector<std::pair<double, std::int64_t>> scored;
  scored.reserve(static_cast<std::size_t>(v.size()));
  for (std::int64_t i = 0; i < v.size(); ++i) {
    if (std::find(exclude.begin(), exclude.end(), i) != exclude.end()) continue;
    const auto r = v.row(i);
    double dot = 0, nn = 0;
    for (std::size_t j = 0; j < r.size(); ++j) {
      dot += q[j] * r[j];
      nn += static_cast<double>(r[j]) * r[j];
    }
    scored.emplace_back(nn > 0 ? dot * qs / std::sqrt(nn) : 0.0, i);
  }
  const std::size_t top = std::min<std::size_t>(static_cast<std::size_t>(k), scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(top), scored.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<Neighbour> out;
  for (std::size_t i = 0; i < top; ++i) out.push_back({v.words()[static_cast<std::size_t>(scored[i].second)], scored[i].first});
  return out;
}

}  // namespace

std::vector<Neighbour> nearest(const WordVectors& vectors, std::string_view word, std::int64_t k) {
  const std::int64_t i = need(vectors, word);
  const auto q = unit_row(vectors, i);
  const std::int64_t ex[] = {i};
  return rank(vectors, q, k, ex);
}

std::vector<Neighbour> nearest_to_vector(const WordVectors& vectors, std::span<const float> query, std::int64_t k,
                                         std::span<const std::int64_t> exclude) {
  if (static_cast<std::int64_t>(query.size()) != vectors.dim())
    throw UsageError("the query has " + std::to_string(query.size()) + " values, the vectors " +
                     std::to_string(vectors.dim()), {"", 0, "query"});
  std::vector<double> q(query.begin(), query.end());
  return rank(vectors, q, k, exclude);
}

std::vector<Neighbour> analogy(const WordVectors& vectors, std::string_view a, std::string_view b, std::string_view c,
                               std::int64_t k) {
  const std::int64_t ia = need(vectors, a), ib = need(vectors, b), ic = need(vectors, c);
  const auto va = unit_row(vectors, ia), vb = unit_row(vectors, ib), vc = unit_row(vectors, ic);
  std::vector<double> q(va.size());
  for (std::size_t j = 0; j < q.size(); ++j) q[j] = vb[j] - va[j] + vc[j];
  const std::int64_t ex[] = {ia, ib, ic};
  return rank(vectors, q, k, ex);
}

}  // namespace adakit::embed
