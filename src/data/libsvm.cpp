// LIBSVM / SVMlight files: strict reader and atomic writer.
#include "adakit/data/libsvm.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "input_file.hpp"

namespace adakit::data {
namespace fs = std::filesystem;
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

// A finite number in the C locale, an optional leading '+' allowed.
bool parse_number(std::string_view s, double& out) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

// Digits only, no sign.
bool parse_unsigned(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_integer(std::string_view s, std::int64_t& out) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

std::string quoted(std::string_view token) {
  constexpr std::size_t kMax = 40;
  if (token.size() <= kMax) return "'" + std::string(token) + "'";
  return "'" + std::string(token.substr(0, kMax)) + "...'";
}

struct Token {
  std::string_view text;
  std::size_t column;  // 1-based byte offset in the line
};

template <class T>
void append_shortest(std::string& out, T value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

SparseDataset parse_libsvm(std::string_view text, const std::string& source, const LibsvmOptions& options) {
  if (options.n_features < 0)
    throw UsageError("n_features must be >= 0 (0 = the largest index in the file)", {source, 0, "n_features"});
  constexpr std::int64_t kMaxIndex = std::numeric_limits<std::int32_t>::max();  // column = index - 1 fits int32
  if (options.max_index < 1) throw UsageError("max_index must be >= 1", {source, 0, "max_index"});
  const std::int64_t max_index =
      std::min(options.n_features > 0 ? options.n_features : options.max_index, kMaxIndex);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  SparseDataset d;
  CsrMatrix& x = d.features;
  std::vector<double> label_values;
  std::vector<std::string_view> label_texts;
  std::vector<std::size_t> label_ends;  // multilabel: line i's labels end at label_ends[i]
  std::vector<float> weights;  // empty until a line gives one
  bool weighted = false;       // a line so far gave a weight: every row has one in `weights`
  std::int64_t largest = 0;
  std::vector<Token> tokens;
  std::int64_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::string_view line = detail::take_line(text);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);

    tokens.clear();
    for (std::size_t i = 0; i < line.size();) {
      if (is_blank(line[i])) {
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      tokens.push_back({line.substr(start, i - start), start + 1});
    }
    if (tokens.empty()) continue;

    const auto fail = [&](const Token& t, const std::string& what) {
      throw Error(what + ": " + quoted(t.text), {source, line_no, "column " + std::to_string(t.column)});
    };
    // `label` or `label:weight` (an importance weight, finite and >= 0). The first token is always the
    // label, so a line that starts with a feature reads as label:weight when both parts are numbers.
    double label = 0.0, weight = 1.0;
    std::string_view label_text = tokens[0].text;
    if (const std::size_t colon = label_text.find(':'); colon != std::string_view::npos) {
      const std::string_view w = label_text.substr(colon + 1);
      label_text = label_text.substr(0, colon);
      if (!options.multilabel && !parse_number(label_text, label))
        fail(tokens[0], "missing label: the line starts with a feature");
      if (!parse_number(w, weight) || weight < 0.0 || !std::isfinite(static_cast<float>(weight)))
        fail(tokens[0], "the weight after the label (label:weight) is not a finite number >= 0");
      if (!weighted) weights.assign(static_cast<std::size_t>(x.rows), 1.0f);  // the rows before weigh 1
      weighted = true;
    } else if (!options.multilabel && !parse_number(label_text, label)) {
      fail(tokens[0], "label is not a finite number");
    }
    if (options.multilabel) {  // 1,3,5: the line's classes
      for (std::size_t at = 0; at <= label_text.size();) {
        const std::size_t end = std::min(label_text.find(',', at), label_text.size());
        const std::string_view one = label_text.substr(at, end - at);
        if (!parse_number(one, label) || label != std::floor(label))
          fail(tokens[0], "a label of the set is not an integer (multilabel: comma-separated class numbers)");
        label_values.push_back(label);
        label_texts.push_back(one);
        at = end + 1;
      }
      label_ends.push_back(label_values.size());
    } else {
      label_values.push_back(label);
      label_texts.push_back(label_text);
    }
    if (weighted) weights.push_back(static_cast<float>(weight));

    std::int64_t previous = 0;
    bool seen_qid = false;
    for (std::size_t k = 1; k < tokens.size(); ++k) {
      const Token& t = tokens[k];
      const std::size_t colon = t.text.find(':');
      if (colon == std::string_view::npos) fail(t, "expected index:value");
      const std::string_view key = t.text.substr(0, colon), val = t.text.substr(colon + 1);
      if (key == "qid") {
        std::int64_t qid = 0;
        if (previous > 0) fail(t, "qid must come before the features");
        if (seen_qid) fail(t, "second qid on one line");
        if (!parse_integer(val, qid)) fail(t, "qid is not an integer");
        seen_qid = true;
        continue;
      }
      std::int64_t index = 0;
      if (!parse_unsigned(key, index) || index < 1) fail(t, "index is not a positive integer (indices are 1-based)");
      if (index > max_index)
        fail(t, options.n_features > 0 ? "index above n_features = " + std::to_string(options.n_features)
                : max_index == kMaxIndex ? std::string("index above 2^31 - 1")
                                         : "index above the largest one allowed, " + std::to_string(max_index));
      if (index <= previous)
        fail(t, "index " + std::to_string(index) + " is not above the previous index " + std::to_string(previous) +
                    " (indices must increase)");
      double value = 0.0;
      if (!parse_number(val, value)) fail(t, "value is not a finite number");
      if (std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max()) &&
          !std::isfinite(static_cast<float>(value)))
        fail(t, "value is out of float range");
      previous = index;
      x.indices.push_back(static_cast<std::int32_t>(index - 1));
      x.values.push_back(static_cast<float>(value));
    }
    largest = std::max(largest, previous);
    x.indptr.push_back(x.nnz());
    ++x.rows;
  }
  if (x.rows == 0) throw Error("no sample: every line is blank or a comment", {source, 0, ""});
  d.weights = std::move(weights);
  x.cols = options.n_features > 0 ? options.n_features : largest;

  bool integral = true;
  for (double v : label_values) integral = integral && v == std::floor(v);
  const bool classify = options.multilabel || options.task == LibsvmOptions::Task::classification ||
                        (options.task == LibsvmOptions::Task::auto_detect && integral);
  if (classify) {
    std::map<double, std::int32_t> ids;
    for (std::size_t i = 0; i < label_values.size(); ++i) ids.emplace(label_values[i], 0);
    std::vector<std::string> names(ids.size());
    std::int32_t next = 0;
    for (auto& [value, id] : ids) id = next++;
    d.labels.reserve(label_values.size());
    for (std::size_t i = 0; i < label_values.size(); ++i) {
      const std::int32_t id = ids.at(label_values[i]);
      if (names[static_cast<std::size_t>(id)].empty()) names[static_cast<std::size_t>(id)] = label_texts[i];
      d.labels.push_back(id);
    }
    d.class_names = std::move(names);
    if (options.multilabel) {  // the sets, from the ids read per label
      const std::vector<std::int32_t> all = std::exchange(d.labels, {});
      d.label_sets.add_rows(all, label_ends, d.labels);
    }
  } else {
    d.targets.reserve(label_values.size());
    for (double v : label_values) d.targets.push_back(static_cast<float>(v));
  }
  return d;
}

SparseDataset read_libsvm(const fs::path& path, const LibsvmOptions& options) {
  std::vector<unsigned char> bytes;
  {
    detail::InputFile in(path);
    bytes = in.read_rest();
  }
  SparseDataset d =
      parse_libsvm(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string(), options);
  d.name = path.filename().string();
  for (const char* ext : {".gz", ".libsvm", ".svm", ".txt"})
    if (d.name.size() > std::string_view(ext).size() && d.name.ends_with(ext))
      d.name.resize(d.name.size() - std::string_view(ext).size());
  return d;
}

std::string to_libsvm(const SparseDataset& d) {
  const CsrMatrix* x = &d.features;
  x->validate();
  CsrMatrix canonical;
  if (!x->is_canonical()) {
    canonical = *x;
    canonical.canonicalize();
    x = &canonical;
  }
  const std::int64_t n = x->rows;
  const bool classify = d.is_classification();
  if (classify ? static_cast<std::int64_t>(d.labels.size()) != n : static_cast<std::int64_t>(d.targets.size()) != n)
    throw UsageError("to_libsvm: " + std::to_string(n) + " rows but " +
                     std::to_string(classify ? d.labels.size() : d.targets.size()) +
                     (classify ? " labels" : " targets"));
  if (!d.weights.empty() && static_cast<std::int64_t>(d.weights.size()) != n)
    throw UsageError("to_libsvm: " + std::to_string(n) + " rows but " + std::to_string(d.weights.size()) + " weights");
  if (d.is_multilabel() && d.label_sets.rows() != n)
    throw UsageError("to_libsvm: " + std::to_string(n) + " rows but " + std::to_string(d.label_sets.rows()) + " label sets");
  bool numeric_names = !d.class_names.empty();
  for (const auto& name : d.class_names) {
    double v = 0.0;
    numeric_names = numeric_names && parse_number(name, v);
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(n) * 4 + static_cast<std::size_t>(x->nnz()) * 12);
  for (std::int64_t r = 0; r < n; ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (classify) {  // the label, or a multilabel row's set: 1,3,5
      const std::span<const std::int32_t> labels =
          d.is_multilabel() ? d.label_sets.row(r) : std::span<const std::int32_t>(d.labels).subspan(i, 1);
      for (std::size_t k = 0; k < labels.size(); ++k) {
        const std::int32_t label = labels[k];
        if (label < 0 || (!d.class_names.empty() && label >= d.num_classes()))
          throw UsageError("to_libsvm: row " + std::to_string(r) + " has label " + std::to_string(label) +
                           " outside [0, " + std::to_string(d.num_classes()) + ")");
        if (k > 0) out += ',';
        if (numeric_names)
          out += d.class_names[static_cast<std::size_t>(label)];
        else
          out += std::to_string(label);
      }
    } else {
      append_shortest(out, d.targets[i]);
    }
    if (!d.weights.empty()) {
      out += ':';
      append_shortest(out, d.weights[i]);
    }
    const auto idx = x->row_indices(r);
    const auto val = x->row_values(r);
    for (std::size_t k = 0; k < idx.size(); ++k) {
      out += ' ';
      append_shortest(out, static_cast<std::int64_t>(idx[k]) + 1);
      out += ':';
      append_shortest(out, val[k]);
    }
    out += '\n';
  }
  return out;
}

void write_libsvm(const fs::path& path, const SparseDataset& d) { write_file_atomic(path, to_libsvm(d)); }

}  // namespace adakit::data
